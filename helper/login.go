package helper

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/api"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/renewal"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// MaxLifetime is the longest session a login may ask for, as in
// cryosparc-tools.
const MaxLifetime = 365 * 24 * time.Hour

// LoginQuery is a login: where, as whom, until when, and how to reach the
// server.
type LoginQuery struct {
	URL, Email, Password string
	// Until is when the session is to expire; zero is DefaultLifetime from
	// now. It must be in the future and at most MaxLifetime ahead.
	Until     time.Time
	Timeout   time.Duration // for the whole exchange with the server; 0 for none
	HTTP      *http.Client  // nil: the API client's default
	UserAgent string
}

// CheckUntil refuses an expiry a login may not ask for: not in the future,
// or more than MaxLifetime ahead. what names it for the message.
func (f *Commands) CheckUntil(until time.Time, what string) error {
	if until.IsZero() {
		return nil
	}
	if d := until.Sub(f.now()); d < time.Second || d > MaxLifetime {
		return bad("%s must be in the future and at most one year from now (as in cryosparc-tools)", what)
	}
	return nil
}

// Login logs in to q.URL as q.Email, as cryosparc-tools' login does, and
// stores the session, saying so on IO.Out: the server is asked for a
// token that lives until q.Until (whole seconds, rounded up), and the
// session stored expires then, in UTC, whole seconds. A session file that could not take the session is
// refused before the server is asked. A login that succeeds ends the hold
// a refused password put on renewals of the session (see Renew).
func (f *Commands) Login(q LoginQuery) error {
	if err := f.login(f.out(), q); err != nil {
		return err
	}
	if err := renewal.ForgetRefusal(f.Path, renewal.Options{Wait: f.Options.LockTimeout, Check: store.Existing}, q.URL, q.Email); err != nil {
		f.warnf("logged in, but the note of an earlier refused renewal stays: %v", err)
	}
	return nil
}

func (f *Commands) login(out io.Writer, q LoginQuery) error {
	url, err := InstanceURL(q.URL)
	if err != nil {
		return err
	}
	if q.Email == "" {
		return bad("no email given")
	}
	if !Carriable(q.Email) || !plain(q.Email) {
		return bad("the email holds a control character, or is too long")
	}
	if q.Password == "" {
		return bad("the password is empty")
	}
	now := f.now()
	until := q.Until
	if until.IsZero() {
		until = now.Add(DefaultLifetime)
	}
	if err := f.CheckUntil(until, "the expiry"); err != nil {
		return err
	}
	if err := f.checkWritable(); err != nil {
		return err
	}
	ctx := context.Background()
	if q.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.Timeout)
		defer cancel()
	}
	client := &api.Client{URL: url, UserAgent: q.UserAgent, HTTP: q.HTTP}
	lifetime := until.Sub(now)
	tok, err := client.Login(ctx, q.Email, q.Password, (lifetime + time.Second - 1).Truncate(time.Second))
	if err != nil {
		if origin, path, serr := store.SplitURL(url); serr == nil && path != "" {
			return fmt.Errorf("%w; if %s is a page of the web app, log in to the instance's address: --url %s", err, text.URL(url), text.URL(origin))
		}
		return err
	}
	if !Carriable(tok.AccessToken) || !plain(tok.AccessToken) {
		return errkind.New(errkind.Unreachable, "the server issued a token that holds control characters, or is longer than the key=value protocol can carry; nothing was stored")
	}
	sess := store.Session{URL: url, Email: q.Email, Token: tok.AccessToken,
		Expires: store.ExpiryFromTime(now.Add(lifetime).UTC().Truncate(time.Second))}
	var key string
	err = f.update(func(s *store.Sessions) error {
		var err error
		key, err = s.Insert(sess)
		return err
	})
	if err != nil {
		return err
	}
	t := sess.Expires.Time()
	_, err = fmt.Fprintf(out, "Logged in to %s as %s. Session saved to %s; it expires %s.\n",
		text.URL(key), text.Safe(sess.Email), text.Safe(f.Path), when(t, f.now()))
	return outputErr(err)
}

// checkWritable refuses, before a login asks the server, a session file
// that could not take the session: invalid, not a session file, or not a
// regular file.
func (f *Commands) checkWritable() error {
	o := f.Options // no warnings: the store that follows gives them once
	_, err := store.Load(f.Path, &o)
	return err
}

// Renewed reports whether the stored session sel names (Select's rule) is
// valid for longer than within, saying so on IO.Out: then a renewal has
// nothing to do. A session that is missing or due gives false.
func (f *Commands) Renewed(sel Selection, within time.Duration) (bool, error) {
	sess, found, err := f.lookup(sel.URL, sel.Email)
	if err != nil || !found {
		return false, err
	}
	return f.valid(f.out(), sess, within, nil), nil
}
