package helper

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TokenQuery says which session's token to print, and how.
type TokenQuery struct {
	URL, Email string        // "" for any, as in cryosparc-tools' find
	MinTTL     time.Duration // fail unless the session lasts at least this long
	Header     bool          // print "Authorization: Bearer <token>"
}

// Token prints the bare token of the session q names, or with q.Header an
// HTTP header line for curl -H @-, which keeps the token out of every
// process's arguments.
func (f *Commands) Token(out io.Writer, q TokenQuery) error {
	url, err := f.instance(q.URL)
	if err != nil {
		return err
	}
	sess, ok, err := f.lookup(url, q.Email)
	if err != nil {
		return err
	}
	if !ok {
		return f.expiredOrNotFound(url, q.Email)
	}
	if q.MinTTL > 0 {
		if left := sess.Expires.Time().Sub(f.now()); left < q.MinTTL {
			day := f.now().Add(q.MinTTL + 24*time.Hour).Format("2006-01-02")
			return errkind.Errorf(errkind.NotFound, "the session of %s for %s expires %s, sooner than --min-ttl %s; log in again: %s --expires %s",
				text.Safe(sess.Email), text.Safe(sess.URL), Relative(sess.Expires.Time(), f.now()), days(q.MinTTL),
				loginCommand(sess.URL, sess.Email), day)
		}
	}
	if err := servableSession(sess); err != nil {
		return err
	}
	line := sess.Token
	if q.Header {
		line = "Authorization: Bearer " + sess.Token
	}
	if _, err := io.WriteString(out, line+"\n"); err != nil {
		return errkind.Errorf(errkind.Output, "writing the token: %w", err)
	}
	return nil
}

// days writes d in days when it is a whole number of them, as it was
// probably given.
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Listed is one session as List shows it in JSON: never a token.
type Listed struct {
	URL         string `json:"url"`
	Email       string `json:"email"`
	Expires     string `json:"expires"`
	ExpiresUnix int64  `json:"expires_unix"`
	Expired     bool   `json:"expired"`
}

// List prints the stored sessions, expired ones included: instance, email
// and expiry, as a table or as a JSON array; never a token.
func (f *Commands) List(out io.Writer, asJSON bool) error {
	s, err := f.load(true)
	if err != nil {
		return err
	}
	now := f.now()
	sessions := s.All()
	rows := []Listed{}
	for _, sess := range sessions {
		rows = append(rows, Listed{URL: sess.URL, Email: sess.Email, Expires: sess.Expires.String(),
			ExpiresUnix: sess.Expires.Unix(), Expired: !sess.Expires.Live(now)})
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return outputErr(enc.Encode(rows))
	}
	if len(rows) == 0 {
		if f.Stderr != nil {
			fmt.Fprintf(f.Stderr, "%s: no sessions in %s; log in with `%s login`\n", Name, text.Safe(f.Path), Name)
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tEMAIL\tEXPIRES\t")
	for _, sess := range sessions {
		t := sess.Expires.Time().Local()
		// Values from the file are escaped: no escape sequence reaches
		// the terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", text.Safe(sess.URL), text.Safe(sess.Email), t.Format("2006-01-02 15:04 MST"), Relative(t, now))
	}
	return outputErr(tw.Flush())
}

func outputErr(err error) error {
	if err != nil {
		return errkind.Errorf(errkind.Output, "writing the output: %w", err)
	}
	return nil
}

// Logout erases the sessions of url and/or email, or every session with
// all, and says how many. The tokens stay valid on the server until they
// expire: the CryoSPARC API has no logout.
func (f *Commands) Logout(out io.Writer, url, email string, all bool) error {
	if !all && url == "" && email == "" {
		url = f.DefaultURL
	}
	switch {
	case all && (url != "" || email != ""):
		return bad("give --all alone, or --url and/or --email")
	case !all && url == "" && email == "":
		return bad("say which sessions to erase: --url and/or --email, or --all (or set CRYOSPARC_BASE_URL)")
	}
	if url != "" {
		var err error
		if url, err = InstanceURL(url); err != nil {
			return err
		}
	}
	removed := 0
	err := f.update(func(s *store.Sessions) error {
		before := s.Len()
		if all {
			if len(s.Instances()) == 0 {
				return store.ErrNoChange
			}
			*s = store.Sessions{}
		} else if s.Erase(store.Filter{URL: url, Email: email}) == 0 {
			return store.ErrNoChange
		}
		removed = before - s.Len()
		return nil
	})
	if err != nil {
		return err
	}
	if removed == 0 {
		if f.Stderr != nil {
			fmt.Fprintf(f.Stderr, "%s: no session matched; nothing erased\n", Name)
		}
		return nil
	}
	_, err = fmt.Fprintf(out, "Erased %d session(s) from %s. The server still accepts the token(s) until they expire: CryoSPARC has no logout.\n", removed, text.Safe(f.Path))
	return outputErr(err)
}

// CheckWritable refuses, before a login asks the server, a session file
// that could not take the session: invalid, not a session file, or not a
// regular file.
func (f *Commands) CheckWritable() error {
	o := f.Options // no warnings: the store that follows gives them once
	_, err := store.Load(f.Path, &o)
	return err
}

// Login stores a session obtained by logging in and says where it went.
func (f *Commands) Login(out io.Writer, sess store.Session) error {
	if !Carriable(sess.Token) || !Carriable(sess.Email) {
		return errkind.New(errkind.Login, "the server issued a token that holds a line break or NUL; nothing was stored")
	}
	var key string
	err := f.update(func(s *store.Sessions) error {
		var err error
		key, err = s.Insert(sess)
		return err
	})
	if err != nil {
		return err
	}
	t := sess.Expires.Time()
	_, err = fmt.Fprintf(out, "Logged in to %s as %s. Session saved to %s; it expires %s (%s).\n",
		text.Safe(key), text.Safe(sess.Email), text.Safe(f.Path), t.Local().Format("2006-01-02 15:04:05 MST"), Relative(t, f.now()))
	return outputErr(err)
}

// Relative says when t is, seen from now: "in 13 days", "expired".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "expired"
	}
	// To the nearest unit: a 14-day session is "in 14 days" a moment later.
	unit := func(n int64, what string) string {
		if n == 1 {
			return fmt.Sprintf("in 1 %s", what)
		}
		return fmt.Sprintf("in %d %ss", n, what)
	}
	round := func(u time.Duration) int64 { return int64((d + u/2) / u) }
	switch {
	case d >= 48*time.Hour:
		return unit(round(24*time.Hour), "day")
	case d >= 2*time.Hour:
		return unit(round(time.Hour), "hour")
	case d >= 2*time.Minute:
		return unit(round(time.Minute), "minute")
	}
	return unit(round(time.Second), "second")
}
