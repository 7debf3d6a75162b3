package helper

import (
	"io"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Get answers a get request on out: the session cryosparc-tools would use
// for the request's URL and email. It returns an ErrNotFound error when
// there is none; for a request in git's keys that error is Silent, as git
// expects a helper with nothing to give to say nothing.
func (f *Commands) Get(in io.Reader, out io.Writer) error {
	r, err := f.read(in)
	if err != nil {
		return err
	}
	if !r.git && r.url == "" {
		r.url = f.DefaultURL // cryosparc-tools' own default instance, if set
	}
	sess, ok, err := f.lookup(r.url, r.email)
	if err != nil {
		return err
	}
	if !ok {
		if r.git {
			return Silent(ErrNotFound) // never shown: no need to explain it
		}
		return f.expiredOrNotFound(r.url, r.email)
	}
	if err := servableSession(sess); err != nil {
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
		a.Set("username", sess.Email)
		a.Set("password", sess.Token)
		return protocol.Write(out, &a, "protocol", "host", "path", "username", "password")
	}
	a.Set("url", sess.URL)
	a.Set("email", sess.Email)
	a.Set("access_token", sess.Token)
	a.Set("token_type", "bearer")
	a.Set("expires", sess.Expires.String())
	return protocol.Write(out, &a, "url", "email", "access_token", "token_type", "expires")
}

// servableSession refuses a stored session whose values no key=value line
// can carry (the file allows them; this program never stores them).
func servableSession(sess store.Session) error {
	if !Carriable(sess.Token) || !Carriable(sess.Email) || !Carriable(sess.URL) {
		return errkind.Errorf(errkind.File, "the session of %s for %s holds a line break or NUL that the key=value protocol cannot carry; use the file directly, or log in again", text.Safe(sess.Email), text.Safe(sess.URL))
	}
	return nil
}

// expiredOrNotFound explains a lookup that found nothing: the session
// expired (and when), or none is stored.
func (f *Commands) expiredOrNotFound(url, email string) error {
	o := f.Options // no warning: the lookup gave it
	o.KeepExpired = true
	s, err := store.Load(f.Path, &o)
	if err != nil && !servable(err) {
		s = nil
	}
	if s != nil {
		if sess, ok := s.Find(url, email); ok && !sess.Expires.Live(f.now()) {
			return errkind.Errorf(errkind.NotFound, "the session of %s for %s expired %s; log in again: %s",
				text.Safe(sess.Email), text.Safe(sess.URL), sess.Expires, loginCommand(sess.URL, sess.Email))
		}
	}
	return f.notFound(url, email, s)
}

// loginCommand is the command line that renews a session.
func loginCommand(url, email string) string {
	return Name + " login --url " + text.Safe(url) + " --email " + text.Safe(email)
}

// Silent marks err as one whose exit status counts but whose message is not
// to be shown.
func Silent(err error) error { return silentError{err} }

// IsSilent reports whether err was marked by Silent.
func IsSilent(err error) bool {
	_, ok := err.(silentError)
	return ok
}

type silentError struct{ error }

func (e silentError) Unwrap() error { return e.error }

// Store stores the session a store request describes, replacing the one of
// the same instance and email. A request in git's keys that this program
// cannot keep (no username or no password, git's ephemeral=1 credentials,
// authtype/credential only) is ignored silently, as git's own helpers do.
func (f *Commands) Store(in io.Reader) error {
	r, err := f.read(in)
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
	case !Carriable(r.token) || !Carriable(r.email):
		return bad("the token or email holds a carriage return, line break or NUL; such a session could never be read back")
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

// Erase removes the sessions an erase request names: one email's session,
// or every session of an instance; with a token, only a session holding that
// same token. A request in git's keys without a path erases that host's
// sessions whatever their path, as git's rule is that a field left out
// matches any value. Erasing nothing is not an error.
func (f *Commands) Erase(in io.Reader) error {
	r, err := f.read(in)
	if err != nil {
		return err
	}
	if r.url == "" && r.email == "" {
		return bad("erase needs url= or email= (or git's protocol= and host=); it will not erase every session")
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
