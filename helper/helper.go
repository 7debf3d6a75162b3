// Package helper answers get, store and erase requests in the key=value
// protocol from the shared cryosparc-tools session file.
package helper

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// DefaultLifetime is how long a stored session lasts when the request gives
// no expiry: the CryoSPARC server's default token lifetime.
const DefaultLifetime = 14 * 24 * time.Hour

// Errors callers branch on.
var (
	// ErrNotFound: no stored session matches the request.
	ErrNotFound = errors.New("no session found")
	// ErrBadInput: the request is malformed or cannot be honoured.
	ErrBadInput = errors.New("bad input")
)

type badInput string

func (e badInput) Error() string        { return string(e) }
func (e badInput) Is(target error) bool { return target == ErrBadInput }

func bad(format string, a ...any) error { return badInput(fmt.Sprintf(format, a...)) }

// Helper serves requests from the session file at Path.
type Helper struct {
	Path    string
	Options store.Options // clock, lock timeout, warnings
	// Stderr receives warnings and hints for people; never a token.
	Stderr io.Writer
	// StdinIsTerminal makes a request print a hint that it is waiting for
	// key=value lines.
	StdinIsTerminal bool
}

func (h *Helper) now() time.Time {
	if h.Options.Now != nil {
		return h.Options.Now()
	}
	return time.Now()
}

func (h *Helper) warnf(format string, a ...any) {
	if h.Stderr != nil {
		fmt.Fprintf(h.Stderr, "cryosparc-credential: warning: "+format+"\n", a...)
	}
}

// keys this program reads; git's own keys that carry nothing for it are
// accepted silently.
var (
	ourKeys = map[string]bool{
		"url": true, "email": true, "access_token": true, "token_type": true, "expires": true, "expires_in": true,
		"protocol": true, "host": true, "path": true, "username": true, "password": true, "password_expiry_utc": true,
	}
	gitKeys = map[string]bool{
		"capability[]": true, "wwwauth[]": true, "authtype": true, "credential": true, "ephemeral": true,
		"state[]": true, "continue": true, "oauth_refresh_token": true, "quit": true,
	}
)

// request is a request read and checked.
type request struct {
	git      bool   // it came with git's keys, and is answered with them
	url      string // the instance URL ("" for any), with http:// added when it had no scheme
	email    string
	token    string
	attrs    protocol.Attributes
	tokenSet bool
}

func (h *Helper) read(in io.Reader) (*request, error) {
	if h.StdinIsTerminal && h.Stderr != nil {
		fmt.Fprintln(h.Stderr, "cryosparc-credential: waiting for key=value lines on standard input, ended by a blank line")
	}
	attrs, err := protocol.Read(in)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, k := range attrs.Keys() {
		if !ourKeys[k] && !gitKeys[k] {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		h.warnf("ignoring unknown key(s) %s; known keys are url, email, access_token, token_type, expires, expires_in (or git's protocol, host, path, username, password, password_expiry_utc)", strings.Join(unknown, ", "))
	}
	r := &request{attrs: attrs}
	get := attrs.Value
	hasURL := hasKey(attrs, "url")
	r.git = hasKey(attrs, "protocol") || hasKey(attrs, "host")
	if r.git && hasURL {
		return nil, bad("give either url= or git's protocol= and host=, not both")
	}
	if err := oneOf(attrs, "email", "username"); err != nil {
		return nil, err
	}
	if err := oneOf(attrs, "access_token", "password"); err != nil {
		return nil, err
	}
	// oneOf made sure at most one of each pair is given.
	r.email = firstOf(attrs, "email", "username")
	r.token = firstOf(attrs, "access_token", "password")
	r.tokenSet = hasKey(attrs, "access_token") || hasKey(attrs, "password")
	if r.git {
		proto, host, path := get("protocol"), get("host"), get("path")
		if proto == "" || host == "" {
			return nil, bad("a request with git's keys needs both protocol= and host=")
		}
		r.url = proto + "://" + host
		if path = strings.Trim(path, "/"); path != "" {
			r.url += "/" + path
		}
	} else if u := get("url"); u != "" {
		r.url = store.WithScheme(u)
	} else if hasURL {
		return nil, bad("url= is empty; give the CryoSPARC web URL, e.g. url=https://cryosparc.example.com")
	}
	if r.url != "" {
		if _, err := store.CanonicalURL(r.url); err != nil {
			return nil, badInput(err.Error())
		}
	}
	if tt, ok := attrs.Get("token_type"); ok && !strings.EqualFold(tt, "bearer") {
		return nil, bad("token_type must be bearer (CryoSPARC issues bearer tokens only)")
	}
	return r, nil
}

func hasKey(a protocol.Attributes, key string) bool {
	_, ok := a.Get(key)
	return ok
}

// firstOf returns the value of the first of keys that a holds.
func firstOf(a protocol.Attributes, keys ...string) string {
	for _, k := range keys {
		if v, ok := a.Get(k); ok {
			return v
		}
	}
	return ""
}

func oneOf(a protocol.Attributes, k1, k2 string) error {
	_, ok1 := a.Get(k1)
	_, ok2 := a.Get(k2)
	if ok1 && ok2 {
		return bad("give %s= or %s=, not both", k1, k2)
	}
	return nil
}

// Get answers a get request on out: the session cryosparc-tools would use
// for the request's URL and email. It returns ErrNotFound when there is none.
func (h *Helper) Get(in io.Reader, out io.Writer) error {
	r, err := h.read(in)
	if err != nil {
		return err
	}
	sess, ok, err := store.Lookup(h.Path, &h.Options, r.url, r.email)
	var inv *store.InvalidError
	if errors.As(err, &inv) && !inv.Syntax() {
		h.warnf("%v; serving the valid entries (run cryosparc-credential doctor)", err)
	} else if err != nil {
		return err
	}
	if !ok {
		if r.git {
			// git's convention: a helper with nothing to give says nothing.
			return Silent(NotFound(r.url, r.email))
		}
		return NotFound(r.url, r.email)
	}
	var a protocol.Attributes
	if r.git {
		for _, k := range []string{"protocol", "host", "path"} {
			if v, ok := r.attrs.Get(k); ok {
				a.Set(k, v)
			}
		}
		a.Set("username", sess.Email)
		a.Set("password", sess.Token)
		a.Set("password_expiry_utc", strconv.FormatInt(sess.Expires.Unix(), 10))
		return answer(out, &a, sess, "protocol", "host", "path", "username", "password", "password_expiry_utc")
	}
	a.Set("url", sess.URL)
	a.Set("email", sess.Email)
	a.Set("access_token", sess.Token)
	a.Set("token_type", "bearer")
	a.Set("expires", sess.Expires.String())
	return answer(out, &a, sess, "url", "email", "access_token", "token_type", "expires")
}

// Silent marks err as one whose exit status counts but whose message is not
// to be shown.
func Silent(err error) error { return silentError{err} }

// IsSilent reports whether err was marked by Silent.
func IsSilent(err error) bool {
	var s silentError
	return errors.As(err, &s)
}

type silentError struct{ error }

func (e silentError) Unwrap() error { return e.error }

// answer writes the answer to a get. A stored value that no key=value line
// can carry (a token with a line break, which the file allows) is an
// error about the file, not the request.
func answer(out io.Writer, a *protocol.Attributes, sess store.Session, keys ...string) error {
	err := protocol.Write(out, a, keys...)
	if errors.Is(err, protocol.ErrBadInput) {
		return fmt.Errorf("%w: the session of %s for %s holds a line break or NUL that the key=value protocol cannot carry; use the file directly", store.ErrUnsafe, sess.Email, sess.URL)
	}
	return err
}

// NotFound returns the ErrNotFound error for a question about url and
// email (either may be empty).
func NotFound(url, email string) error {
	switch {
	case url != "" && email != "":
		return fmt.Errorf("%w for %s and %s", ErrNotFound, url, email)
	case url != "":
		return fmt.Errorf("%w for %s", ErrNotFound, url)
	case email != "":
		return fmt.Errorf("%w for %s", ErrNotFound, email)
	}
	return ErrNotFound
}

// Store stores the session a store request describes, replacing the one of
// the same instance and email.
func (h *Helper) Store(in io.Reader) error {
	r, err := h.read(in)
	if err != nil {
		return err
	}
	switch {
	case r.url == "":
		return bad("store needs url= (or git's protocol= and host=)")
	case r.email == "" && !(r.git && hasKey(r.attrs, "username")):
		// git stores credentials with an empty user name (single sign-on
		// hosts); a CryoSPARC session otherwise needs its email.
		return bad("store needs email= (or git's username=)")
	case !r.tokenSet:
		return bad("store needs access_token= (or git's password=)")
	}
	exp, err := h.expiry(r.attrs)
	if err != nil {
		return err
	}
	if !exp.Live(h.now()) {
		return bad("the session expired at %s; an expired token is not stored", exp)
	}
	sess := store.Session{URL: r.url, Email: r.email, Token: r.token, Expires: exp}
	return store.Update(h.Path, &h.Options, func(s *store.Sessions) error {
		return s.Insert(sess)
	})
}

// expiry returns the expiry a store request asks for: expires=,
// expires_in= or password_expiry_utc=, else DefaultLifetime from now.
func (h *Helper) expiry(a protocol.Attributes) (store.Expiry, error) {
	var given []string
	for _, k := range []string{"expires", "expires_in", "password_expiry_utc"} {
		if _, ok := a.Get(k); ok {
			given = append(given, k+"=")
		}
	}
	if len(given) > 1 {
		return store.Expiry{}, bad("give only one of %s", strings.Join(given, ", "))
	}
	now := h.now()
	if v, ok := a.Get("expires"); ok {
		e, err := store.ParseDateTime(v)
		if err != nil {
			return e, bad("expires=%q is not a date-time with a zone, e.g. 2025-01-31T12:00:00Z or 2025-01-31T12:00:00+01:00", v)
		}
		return e, nil
	}
	if v, ok := a.Get("expires_in"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || strings.HasPrefix(v, "+") || n > 100*365*24*3600 {
			return store.Expiry{}, bad("expires_in=%q is not a number of seconds (a whole number from 0 to 3153600000)", v)
		}
		return store.ExpiryFromTime(now.Add(time.Duration(n) * time.Second).UTC().Truncate(time.Second)), nil
	}
	if v, ok := a.Get("password_expiry_utc"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 253402300799 {
			return store.Expiry{}, bad("password_expiry_utc=%q is not a Unix time in seconds", v)
		}
		return store.ExpiryFromTime(time.Unix(n, 0).UTC()), nil
	}
	return store.ExpiryFromTime(now.Add(DefaultLifetime).UTC().Truncate(time.Second)), nil
}

// Erase removes the sessions an erase request names: one email's session,
// or every session of an instance; with a token, only a session holding that
// same token. Erasing nothing is not an error.
func (h *Helper) Erase(in io.Reader) error {
	r, err := h.read(in)
	if err != nil {
		return err
	}
	if r.url == "" && r.email == "" {
		return bad("erase needs url= or email= (or git's protocol= and host=); it will not erase every session")
	}
	f := store.Filter{URL: r.url, Email: r.email}
	if r.tokenSet {
		f.Token = &r.token
	}
	return store.Update(h.Path, &h.Options, func(s *store.Sessions) error {
		if s.Erase(f) == 0 {
			return store.ErrNoChange
		}
		return nil
	})
}
