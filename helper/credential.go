package helper

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Get answers the get request read from IO.In on IO.Out: the session cryosparc-tools would use
// for the request's URL and email (for a url= request, chosen by Select's
// rule, the environment included; a request in git's keys takes nothing
// from the environment). It returns an ErrNotFound error when there is
// none; for a request in git's keys that error is silent, as git expects a
// helper with nothing to give to say nothing.
func (f *Commands) Get() error {
	r, err := f.read()
	if err != nil {
		return err
	}
	sel := Selection{URL: r.url, Email: r.email}
	if !r.git {
		if sel, err = f.Select(r.url, r.email); err != nil {
			return err
		}
	}
	sess, err := f.session(sel, r.git)
	if err != nil {
		return err
	}
	var a protocol.Attributes
	if r.git {
		for _, k := range []string{"protocol", "host", "path"} {
			if v, ok := r.attrs.Get(k); ok {
				a.Set(k, v)
			}
		}
		// The expiry is not given back: the file cannot tell an expiry
		// git supplied from the default one, and a helper must not invent
		// one (docs/git.md).
		a.Set("username", f.shown(sess.Email))
		a.Set("password", f.shown(sess.Token))
		return protocol.Write(f.out(), &a, "protocol", "host", "path", "username", "password")
	}
	a.Set("url", f.shown(sess.URL))
	a.Set("email", f.shown(sess.Email))
	a.Set("access_token", f.shown(sess.Token))
	a.Set("token_type", "bearer")
	a.Set("expires", sess.Expires.String())
	return protocol.Write(f.out(), &a, "url", "email", "access_token", "token_type", "expires")
}

// session returns the live session sel means, as cryosparc-tools' find
// gives it, or an error that explains why there is none (silent, for git,
// when quiet). On a terminal it says which session it chose when several
// could be meant. It reads the file once.
func (f *Commands) session(sel Selection, quiet bool) (store.Session, error) {
	a, err := f.ask(sel, quiet, f.options())
	if err != nil && !servable(err) {
		return store.Session{}, err
	}
	if err != nil {
		f.warnf("%v; using the valid entries (run %s doctor)", err, Name)
	}
	return f.answer(sel, quiet, a)
}

// ask reads the file once for the session sel means, and for the rest of
// the file when a command may have to talk about it: why nothing was found
// (unless quiet), or, on a terminal, what else could have been meant.
func (f *Commands) ask(sel Selection, quiet bool, o *store.Options) (store.Answer, error) {
	q := store.Query{URL: sel.URL, Email: sel.Email}
	switch {
	case quiet:
	case f.IO.ErrTTY && (sel.URL == "" || sel.Email == ""):
		q.Whole = store.WholeAlways
	default:
		q.Whole = store.WholeOnMiss
	}
	return store.Ask(f.Path, o, q)
}

// answer is session's result from what ask read.
func (f *Commands) answer(sel Selection, quiet bool, a store.Answer) (store.Session, error) {
	if !a.Found {
		if quiet {
			return a.Session, silentError{ErrNotFound} // never shown: no need to explain it
		}
		return a.Session, f.expiredOrNotFound(sel, a.Whole)
	}
	sess := a.Session
	if err := servableSession(sess); err != nil {
		return sess, err
	}
	if f.IO.ErrTTY && !quiet && (sel.URL == "" || sel.Email == "") {
		f.sayChosen(sel, sess, a.Whole)
	}
	return sess, nil
}

// sayChosen tells a person which session was used when others could have
// been meant: sel named no instance and several have sessions, or no email
// and the instance has several. s is the file the session came from,
// expired sessions included.
func (f *Commands) sayChosen(sel Selection, sess store.Session, s *store.Sessions) {
	if s == nil {
		return
	}
	now := f.now()
	instances, emails := 0, 0
	last := ""
	for _, x := range s.All() {
		if !x.Expires.Live(now) {
			continue
		}
		if x.URL != last {
			instances, last = instances+1, x.URL
		}
		if x.URL == sess.URL {
			emails++
		}
	}
	var others []string
	if sel.URL == "" && instances > 1 {
		others = append(others, fmt.Sprintf("%d instances have sessions", instances))
	}
	if sel.Email == "" && emails > 1 {
		others = append(others, fmt.Sprintf("%d emails have sessions there", emails))
	}
	if len(others) > 0 {
		say(f.IO.ErrOut, "%s: using the session of %s at %s (%s; name the instance and email to choose another)\n",
			Name, text.Safe(sess.Email), text.URL(sess.URL), strings.Join(others, ", "))
	}
}

// servableSession refuses a stored session whose values no key=value line
// can carry (the file allows them; this program never stores them).
func servableSession(sess store.Session) error {
	if !Carriable(sess.Token) || !Carriable(sess.Email) || !Carriable(sess.URL) {
		return errkind.Errorf(errkind.File, "the session of %s for %s holds a line break or NUL, or is longer than the key=value protocol can carry; use the file directly, or log in again", text.Safe(sess.Email), text.URL(sess.URL))
	}
	return nil
}

// expiredOrNotFound explains a lookup that found nothing, from s, the
// file it read (expired sessions included): the session expired (and
// when), or none is stored.
func (f *Commands) expiredOrNotFound(sel Selection, s *store.Sessions) error {
	if !f.exists() {
		return f.notFound(sel, nil)
	}
	if s == nil {
		s = &store.Sessions{}
	}
	if sess, ok := s.Find(sel.URL, sel.Email); ok && !sess.Expires.Live(f.now()) {
		return errkind.Errorf(errkind.NotFound, "the session of %s for %s expired %s; log in again: %s",
			text.Safe(sess.Email), text.URL(sess.URL), sess.Expires, loginCommand(sess.URL, sess.Email))
	}
	return f.notFound(sel, s)
}

// silentError marks an error whose exit status counts but whose message is
// not to be shown.
type silentError struct{ error }

func (e silentError) Unwrap() error { return e.error }

// IsSilent reports whether err is one whose message is not to be shown: a
// miss for git, which expects a helper with nothing to give to say nothing.
func IsSilent(err error) bool {
	var s silentError
	return errors.As(err, &s)
}

// Store stores the session the store request read from IO.In describes, replacing the one of
// the same instance and email. A request in git's keys that this program
// cannot keep (no username or no password, git's ephemeral=1 credentials,
// authtype/credential only) is ignored silently, as git's own helpers do.
func (f *Commands) Store() error {
	r, err := f.read()
	if err != nil {
		return err
	}
	if r.git && (!r.has("username") || !r.has("password") || r.attrs.Value("ephemeral") == "1") {
		return nil
	}
	switch {
	case r.url == "":
		return bad("store needs url= (or git's protocol= and host=)")
	case r.email == "" && !r.git:
		return bad("store needs email= (or git's username=)")
	case !r.tokenSet:
		return bad("store needs access_token= (or git's password=)")
	case r.token == "" && !r.git:
		// git may store an empty password (its helpers' test suite does);
		// a CryoSPARC session never has an empty token.
		return bad("access_token= is empty; an empty token is not stored")
	case !Carriable(r.token) || !Carriable(r.email):
		return bad("the token or email holds a carriage return, line break or NUL, or is too long; such a session could never be read back")
	}
	exp, err := f.expiry(r.attrs)
	if err != nil {
		return err
	}
	if !exp.Live(f.now()) {
		return bad("the session expired at %s; an expired token is not stored", exp)
	}
	sess := store.Session{URL: r.url, Email: r.email, Token: r.token, Expires: exp}
	return f.update(func(s *store.Sessions) error {
		_, err := s.Insert(sess)
		return err
	})
}

// Erase removes the sessions the erase request read from IO.In names: one email's session,
// or every session of an instance; with a token, only a session holding that
// same token. A request in git's keys without a path erases that host's
// sessions whatever their path, as git's rule is that a field left out
// matches any value. Erasing nothing is not an error.
func (f *Commands) Erase() error {
	r, err := f.read()
	if err != nil {
		return err
	}
	if r.url == "" && r.email == "" {
		return bad("erase needs url= or email= (or git's protocol= and host=); it will not erase every session")
	}
	if !f.exists() {
		return nil // nothing to erase, and nothing is created
	}
	filter := store.Filter{URL: r.url, Email: r.email, AnyPath: r.git && !r.has("path")}
	if r.tokenSet {
		filter.Token = &r.token
	}
	return f.update(func(s *store.Sessions) error {
		if s.Erase(filter) == 0 {
			return store.ErrNoChange
		}
		return nil
	})
}
