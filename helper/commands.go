package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TokenQuery says which session's token to print, and how.
type TokenQuery struct {
	URL, Email string        // the command's own; "" leaves it to Select's rule
	MinTTL     time.Duration // fail unless the session lasts at least this long
	Header     bool          // print "Authorization: Bearer <token>"
}

// Token prints on IO.Out the bare token of the session q names, or with q.Header an
// HTTP header line for curl -H @-, which keeps the token out of every
// process's arguments.
func (f *Commands) Token(q TokenQuery) error {
	sess, err := f.Live(q.URL, q.Email, q.MinTTL)
	if err != nil {
		return err
	}
	line := f.shown(sess.Token)
	if q.Header {
		line = "Authorization: Bearer " + line
	}
	if _, err := io.WriteString(f.out(), line+"\n"); err != nil {
		return errkind.Errorf(errkind.Output, "writing the token: %w", err)
	}
	return nil
}

// Live returns the session Select's rule chooses for url and email (the
// command's own values, "" for none), refusing one that expires within
// minTTL: the session a token, a job or a program is to use.
func (f *Commands) Live(url, email string, minTTL time.Duration) (store.Session, error) {
	sel, err := f.Select(url, email)
	if err != nil {
		return store.Session{}, err
	}
	sess, err := f.session(sel, false)
	if err != nil {
		return sess, err
	}
	return f.lasts(sess, minTTL)
}

// lasts refuses sess when it expires within minTTL.
func (f *Commands) lasts(sess store.Session, minTTL time.Duration) (store.Session, error) {
	if minTTL > 0 {
		now := f.now()
		if left := sess.Expires.Time().Sub(now); left < minTTL {
			if minTTL >= MaxLifetime {
				return sess, errkind.Errorf(errkind.NotFound, "the session of %s for %s expires %s, sooner than the %s asked for, which is longer than any session can last (one year)",
					text.Safe(sess.Email), text.URL(sess.URL), relative(sess.Expires.Time(), now), text.Duration(minTTL))
			}
			day := now.Add(min(minTTL+24*time.Hour, MaxLifetime)).Format("2006-01-02")
			return sess, errkind.Errorf(errkind.NotFound, "the session of %s for %s expires %s, sooner than the %s asked for; log in again: %s --expires %s",
				text.Safe(sess.Email), text.URL(sess.URL), relative(sess.Expires.Time(), now), text.Duration(minTTL),
				loginCommand(sess.URL, sess.Email), day)
		}
	}
	return sess, nil
}

// Listed is one session as List shows it in JSON: never a token.
type Listed struct {
	URL         string `json:"url"`
	Email       string `json:"email"`
	Expires     string `json:"expires"`
	ExpiresUnix int64  `json:"expires_unix"`
	Expired     bool   `json:"expired"`
}

// ListQuery says which sessions to list, and how.
type ListQuery struct {
	URL, Email string // the command's own filters; "" leaves them to Select's rule (else every session)
	JSON       bool   // a JSON array instead of a table
}

// List prints on IO.Out the stored sessions, expired ones included: instance, email
// and expiry, as a table or as a JSON array; never a token. Only those of
// the instance and email Select's rule names are shown, when it names any.
func (f *Commands) List(q ListQuery) error {
	sel, err := f.Select(q.URL, q.Email)
	if err != nil {
		return err
	}
	s, err := f.load(true)
	if err != nil {
		return err
	}
	sessions := f.filter(s, sel)
	now := f.now()
	out := f.out()
	rows := []Listed{}
	for _, sess := range sessions {
		rows = append(rows, Listed{URL: sess.URL, Email: sess.Email, Expires: sess.Expires.String(),
			ExpiresUnix: sess.Expires.Unix(), Expired: !sess.Expires.Live(now)})
	}
	if asJSON := q.JSON; asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return outputErr(enc.Encode(rows))
	}
	if len(rows) == 0 {
		if f.IO.ErrOut != nil {
			if sel.URL != "" || sel.Email != "" {
				say(f.IO.ErrOut, "%s: no sessions%s in %s\n", Name, sel.describe(), text.Safe(f.Path))
			} else {
				say(f.IO.ErrOut, "%s: no sessions in %s; log in with `%s login`\n", Name, text.Safe(f.Path), Name)
			}
		}
		return nil
	}
	if (sel.URLFrom != "" || sel.EmailFrom != "") && f.IO.ErrOut != nil && f.IO.ErrTTY {
		say(f.IO.ErrOut, "%s: showing only the sessions%s\n", Name, sel.describe())
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	say(tw, "INSTANCE\tEMAIL\tEXPIRES\n")
	for _, sess := range sessions {
		// Values from the file are escaped: no escape sequence reaches
		// the terminal.
		say(tw, "%s\t%s\t%s\n", text.URL(sess.URL), text.Safe(sess.Email), when(sess.Expires.Time(), now))
	}
	return outputErr(tw.Flush())
}

// filter returns the sessions of s that sel names: those of the instance
// sel.URL names (as find matches it), of sel.Email; all when sel names
// nothing.
func (f *Commands) filter(s *store.Sessions, sel Selection) []store.Session {
	instance := ""
	if sel.URL != "" {
		first, ok := s.Find(sel.URL, "")
		if !ok {
			return nil
		}
		instance = first.URL
	}
	var out []store.Session
	for _, sess := range s.All() {
		if (instance == "" || sess.URL == instance) && (sel.Email == "" || sess.Email == sel.Email) {
			out = append(out, sess)
		}
	}
	return out
}

func outputErr(err error) error {
	if err != nil {
		return errkind.Errorf(errkind.Output, "writing the output: %w", err)
	}
	return nil
}

// LogoutQuery says which sessions to erase.
type LogoutQuery struct {
	URL, Email string // the command's own; "" leaves them to Select's rule
	// All erases every session (of URL's instance, or of Email, when
	// given): the environment is not consulted.
	All bool
	// Confirm, when not nil, is asked before All erases: it is shown what
	// will be erased and says whether to go on. With All and no Confirm,
	// Yes must be set.
	Confirm func(question string) (bool, error)
	Yes     bool // goes with All only
}

// Logout erases the session Select's rule names (the one token would
// print), or with q.All every session (of q.URL's instance and/or of
// q.Email when given), and says which on IO.Out. The tokens stay valid on
// the server until they expire: the CryoSPARC API has no logout. It reads
// the file once, under the lock, and chooses what to erase from that
// version, except when q.All asks first: a person's answer is not waited
// for under the lock, so what is shown is read first.
func (f *Commands) Logout(q LogoutQuery) error {
	if q.Yes && !q.All {
		return bad("--yes goes with --all")
	}
	if q.All {
		return f.logoutAll(q)
	}
	sel, err := f.Select(q.URL, q.Email)
	if err != nil {
		return err
	}
	if sel.URL == "" && sel.Email == "" {
		return bad("say which session to erase: --url and/or --email (or set %s / %s), or --all", EnvBaseURL, EnvEmail)
	}
	if !f.exists() {
		return f.noneErased(sel)
	}
	var erased []store.Session
	change := func(s *store.Sessions) error {
		erased = nil
		// The live session token would use: an expired one that comes
		// first is not the one meant (a write reads none: it drops them).
		sess, found := s.Find(sel.URL, sel.Email)
		if !found || s.Erase(store.Filter{URL: sess.URL, Email: sess.Email}) == 0 {
			return store.ErrNoChange
		}
		erased = []store.Session{sess}
		return nil
	}
	// The lock is tried once first: a session that is not there is no
	// reason to wait for another process to finish its write.
	warnings, ran, err := f.updateHeld(0, change)
	if errors.Is(err, store.ErrLockTimeout) && !ran && f.Options.LockTimeout > 0 {
		o := f.Options
		if _, found, lerr := store.Lookup(f.Path, &o, sel.URL, sel.Email); lerr == nil && !found {
			return f.noneErased(sel)
		}
		warnings, ran, err = f.updateHeld(f.Options.LockTimeout, change)
	}
	if err != nil && !ran {
		if errors.Is(err, store.ErrBusy) {
			return err // waited for once, as a read waits
		}
		// Refused before the session was looked for (entries
		// cryosparc-tools rejects, a read-only file, another process's
		// lock): a session the valid entries do not hold is, as always,
		// nothing to erase and no error.
		o := f.Options
		_, found, lerr := store.Lookup(f.Path, &o, sel.URL, sel.Email)
		if lerr != nil && !servable(lerr) {
			return lerr
		}
		if !found {
			return f.noneErased(sel)
		}
	}
	if err == nil && len(erased) == 0 {
		return f.noneErased(sel) // the warnings of a write that was not made are not given
	}
	f.warnAll(warnings)
	if err != nil {
		return err
	}
	return f.sayErased(erased)
}

// logoutAll is Logout of every session sel names (q.All). With q.Yes it
// chooses them in the version of the file read under the lock; else they
// are read first, shown to q.Confirm, and those of them still there are
// erased.
func (f *Commands) logoutAll(q LogoutQuery) error {
	sel := Selection{}
	if q.URL != "" {
		u, err := InstanceURL(q.URL)
		if err != nil {
			return err
		}
		sel.URL = u
	}
	sel.Email = q.Email
	selected := Selection{URL: q.URL, Email: q.Email}
	if !q.Yes {
		s, err := f.loadExisting()
		if err != nil || s == nil {
			return err
		}
		erase := f.filter(s, sel)
		if len(erase) > 0 {
			if q.Confirm == nil {
				return bad("--all erases %d session(s); add --yes to confirm when there is no terminal to ask", len(erase))
			}
			ok, err := q.Confirm(fmt.Sprintf("Erase these %d session(s) from %s?\n%s", len(erase), text.Safe(f.Path), sessionLines(erase, 20)))
			if err != nil {
				return err
			}
			if !ok {
				// An answer, not a failure: exit 0.
				if f.IO.ErrOut != nil {
					say(f.IO.ErrOut, "%s: nothing erased\n", Name)
				}
				return nil
			}
		}
		var erased []store.Session
		err = f.update(func(s *store.Sessions) error {
			erased = erased[:0]
			for _, sess := range erase {
				if s.Erase(store.Filter{URL: sess.URL, Email: sess.Email}) > 0 {
					erased = append(erased, sess)
				}
			}
			if len(erased) == 0 {
				return store.ErrNoChange
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(erased) == 0 {
			return f.noneErased(selected)
		}
		return f.sayErased(erased)
	}
	if !f.exists() {
		return nil
	}
	var erased []store.Session
	warnings, ran, err := f.updateHeld(f.Options.LockTimeout, func(s *store.Sessions) error {
		erased = f.filter(s, sel)
		for _, sess := range erased {
			s.Erase(store.Filter{URL: sess.URL, Email: sess.Email})
		}
		if len(erased) == 0 {
			return store.ErrNoChange
		}
		return nil
	})
	if err != nil && !ran {
		if errors.Is(err, store.ErrBusy) {
			return err // waited for once, as a read waits
		}
		// Refused before the sessions were looked for: the file's own
		// problems first, with the warnings of a read.
		s, lerr := f.loadExisting()
		if lerr != nil || s == nil {
			return lerr
		}
	}
	f.warnAll(warnings)
	if err != nil {
		return err
	}
	if len(erased) == 0 {
		return f.noneErased(selected)
	}
	return f.sayErased(erased)
}

// updateHeld is update, waiting at most wait for the lock, with the
// warnings held back and returned, for the caller to give or not once it
// knows the outcome; ran says whether change
// was called (the file was read under the lock). A change passed here
// writes nothing for people and sets anew what it found each time it
// runs: the notices are written once, after the update, however often
// it is called.
func (f *Commands) updateHeld(wait time.Duration, change func(*store.Sessions) error) (warnings []string, ran bool, err error) {
	o := f.options()
	o.LockTimeout = wait
	o.Warn = func(msg string) { warnings = append(warnings, msg) }
	err = store.Update(f.Path, o, func(s *store.Sessions) error {
		ran = true
		return change(s)
	})
	return warnings, ran, err
}

// warnAll gives warnings held back.
func (f *Commands) warnAll(warnings []string) {
	for _, w := range warnings {
		f.warnf("%s", w)
	}
}

// sayErased says on IO.Out which sessions a logout erased.
func (f *Commands) sayErased(erased []store.Session) error {
	_, err := fmt.Fprintf(f.out(), "Erased %d session(s) from %s:\n%sThe server still accepts the token(s) until they expire: CryoSPARC has no logout.\n",
		len(erased), text.Safe(f.Path), sessionLines(erased, 20))
	return outputErr(err)
}

// noneErased says that a logout matched nothing (not an error: exit 0).
func (f *Commands) noneErased(sel Selection) error {
	if f.IO.ErrOut != nil {
		say(f.IO.ErrOut, "%s: no session%s in %s; nothing erased\n", Name, sel.describe(), text.Safe(f.Path))
	}
	return nil
}

// loadExisting loads the file, expired sessions included; a missing file
// gives nil and no error, and creates nothing.
func (f *Commands) loadExisting() (*store.Sessions, error) {
	if !f.exists() {
		return nil, nil
	}
	return f.load(true)
}

// sessionLines lists sessions, one "  email at URL" line each, at most n.
func sessionLines(list []store.Session, n int) string {
	var b strings.Builder
	for i, sess := range list {
		if i == n {
			fmt.Fprintf(&b, "  and %d more\n", len(list)-n)
			break
		}
		fmt.Fprintf(&b, "  %s at %s\n", text.Safe(sess.Email), text.URL(sess.URL))
	}
	return b.String()
}

// when shows an instant as every command shows it: local time and how far
// from now, "2025-01-31 13:00 CET (in 14 days)".
func when(t, now time.Time) string {
	return t.Local().Format("2006-01-02 15:04 MST") + " (" + relative(t, now) + ")"
}

// relative says when t is, seen from now: "in 13 days", "expired".
func relative(t, now time.Time) string {
	if !t.After(now) {
		return "expired"
	}
	// Dates centuries ahead overflow a Duration: count in seconds.
	if t.Sub(now) >= 100*365*24*time.Hour {
		return fmt.Sprintf("in %d days", (t.Unix()-now.Unix()+12*3600)/(24*3600))
	}
	// To the nearest unit, in the words of every message (text.Duration):
	// a 14-day session is "in 14 days" a moment later.
	d := t.Sub(now)
	unit := time.Second
	switch {
	case d >= 48*time.Hour:
		unit = 24 * time.Hour
	case d >= 2*time.Hour:
		unit = time.Hour
	case d >= 2*time.Minute:
		unit = time.Minute
	}
	return "in " + text.Duration((d+unit/2)/unit*unit)
}

// ExecEnv returns the environment for a program that is to use sess: the
// environment given, with CRYOSPARC_BASE_URL and CRYOSPARC_EMAIL set to the
// session's and CRYOSPARC_SESSION_EXPIRES to its expiry (RFC 3339, UTC),
// and CRYOSPARC_MASTER_HOSTNAME and CRYOSPARC_BASE_PORT (cryosparc-tools
// refuses both kinds at once), CRYOSPARC_PASSWORD and CRYOSPARC_LICENSE_ID
// (with them CryoSPARC() would log in anew instead) removed, so that
// CryoSPARC() in it uses exactly that session; with tokenEnv (checked by
// CheckTokenEnv), also tokenEnv=<the token>. Every other variable is kept,
// in its order; the ones set come last, each once (a duplicate could
// otherwise win in the program).
func ExecEnv(environ []string, sess store.Session, tokenEnv string) []string {
	managed := map[string]bool{tokenEnv: tokenEnv != ""}
	for _, k := range execManaged {
		managed[k] = true
	}
	out := make([]string, 0, len(environ)+4)
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !managed[k] {
			out = append(out, kv)
		}
	}
	out = append(out, EnvBaseURL+"="+sess.URL, EnvEmail+"="+sess.Email,
		EnvSessionExpires+"="+sess.Expires.Time().UTC().Format(time.RFC3339))
	if tokenEnv != "" {
		out = append(out, tokenEnv+"="+sess.Token)
	}
	return out
}

// Values prints on IO.Out, one a line and each once, the instance URLs ("url") or
// the emails ("email") of the stored live sessions, in file order: what
// shell completion offers after --url and --email. With url (the --url
// already on the command line), only the emails of the instance it names
// (as find() matches it). Never a token; values that are not one printable
// line are left out. A file that cannot be read offers nothing.
func (f *Commands) Values(field, url string) error {
	o := f.Options // no warnings: a completion must stay quiet
	s, err := store.Load(f.Path, &o)
	if s == nil || err != nil && !servable(err) {
		return nil
	}
	instance := ""
	if field == "email" && url != "" {
		first, ok := s.Find(store.WithScheme(url), "")
		if !ok {
			return nil
		}
		instance = first.URL
	}
	seen := map[string]bool{}
	for _, sess := range s.All() {
		if instance != "" && sess.URL != instance {
			continue
		}
		v := sess.Email
		if field == "url" {
			v = sess.URL
		}
		if seen[v] || v == "" || text.Safe(v) != v || strings.ContainsAny(v, " \t@") && field == "url" {
			continue
		}
		seen[v] = true
		if _, err := fmt.Fprintln(f.out(), v); err != nil {
			return outputErr(err)
		}
	}
	return nil
}

// ForCryoSPARC returns the session a program using cryosparc-tools is to
// use, as Live does, but refuses a session file that cryosparc-tools would
// reject as a whole: CryoSPARC() in that program would find no session in
// it, whatever this program serves from its valid part. It reads the file
// once; the file's problems come before those of the selection.
func (f *Commands) ForCryoSPARC(url, email string, minTTL time.Duration) (store.Session, error) {
	sel, selErr := f.Select(url, email)
	if selErr != nil {
		sel = Selection{} // the file is still read, for its errors
	}
	// Warnings only once the file is known to be usable: the error says
	// what is wrong with it.
	o := f.Options
	var warnings []string
	o.Warn = func(msg string) { warnings = append(warnings, msg) }
	a, err := f.ask(sel, false, &o)
	if err != nil {
		if servable(err) {
			return store.Session{}, fmt.Errorf("%w; cryosparc-tools ignores the whole file while it holds one entry it rejects, so CryoSPARC() in the command would find no session", err)
		}
		return store.Session{}, err
	}
	if selErr != nil {
		return store.Session{}, selErr
	}
	for _, w := range warnings {
		f.warnf("%s", w)
	}
	sess, err := f.answer(sel, false, a)
	if err != nil {
		return sess, err
	}
	return f.lasts(sess, minTTL)
}
