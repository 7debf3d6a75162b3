package helper

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Keys a request may hold. A url= request with any other key is refused,
// so that a misspelled key never widens the question to "any instance". A
// request in git's keys ignores keys it does not know, as git's helpers do.
// (Functions, not maps: a map literal is built by code at every start.)
func urlKey(k string) bool {
	switch k {
	case "url", "email", "access_token", "token_type", "expires", "expires_in":
		return true
	}
	return false
}

func gitDataKey(k string) bool {
	switch k {
	case "protocol", "host", "path", "username", "password", "password_expiry_utc":
		return true
	}
	return false
}

// gitOtherKey: git's own keys that carry nothing this program keeps.
func gitOtherKey(k string) bool {
	switch k {
	case "capability[]", "wwwauth[]", "authtype", "credential", "ephemeral",
		"state[]", "continue", "oauth_refresh_token", "quit":
		return true
	}
	return false
}

// request is a request read and checked.
type request struct {
	git      bool   // it came with git's keys, and is answered with them
	url      string // the instance URL ("" for any), with http:// added when it had no scheme
	email    string
	token    string
	tokenSet bool
	attrs    protocol.Attributes
}

func (r *request) has(key string) bool {
	_, ok := r.attrs.Get(key)
	return ok
}

// read reads the request on IO.In.
func (f *Commands) read() (*request, error) {
	if f.IO.InTTY && f.IO.ErrOut != nil {
		say(f.IO.ErrOut, "%s: waiting for key=value lines on standard input, ended by a blank line\n", Name)
	}
	attrs, err := protocol.Read(f.in())
	if err != nil {
		return nil, err
	}
	r := &request{attrs: attrs}
	r.git = r.has("protocol") || r.has("host")
	if !r.git {
		for _, k := range attrs.Keys() {
			if !urlKey(k) && !gitDataKey(k) && !gitOtherKey(k) {
				return nil, unknownKey(k)
			}
		}
	}
	if r.git && r.has("url") {
		return nil, bad("give either url= or git's protocol= and host=, not both")
	}
	for _, pair := range [][2]string{{"email", "username"}, {"access_token", "password"}} {
		if r.has(pair[0]) && r.has(pair[1]) {
			return nil, bad("give %s= or %s=, not both", pair[0], pair[1])
		}
	}
	r.email = firstOf(attrs, "email", "username")
	if !r.git && r.email == "" && (r.has("email") || r.has("username")) {
		// An unset variable in "email=$EMAIL": never "any email". (git
		// may store and ask for an empty user name: its requests keep it.)
		return nil, bad("email= is empty; give the email of the session, or leave the line out")
	}
	r.token = firstOf(attrs, "access_token", "password")
	r.tokenSet = r.has("access_token") || r.has("password")
	get := attrs.Value
	switch {
	case r.git:
		proto, host := get("protocol"), get("host")
		if proto == "" || host == "" {
			return nil, bad("a request with git's keys needs both protocol= and host=")
		}
		r.url = proto + "://" + host
		if path := strings.Trim(get("path"), "/"); path != "" {
			r.url += "/" + path
		}
		if _, err := store.CanonicalURL(r.url); err != nil {
			return nil, err
		}
	case r.has("url"):
		if get("url") == "" {
			return nil, bad("url= is empty; give the CryoSPARC web URL, e.g. url=https://cryosparc.example.com")
		}
		if r.url, err = InstanceURL(get("url")); err != nil {
			return nil, err
		}
	}
	if tt, ok := attrs.Get("token_type"); ok && !strings.EqualFold(tt, "bearer") {
		return nil, bad("token_type must be bearer (CryoSPARC issues bearer tokens only)")
	}
	return r, nil
}

// unknownKey is the error for a key a url= request may not hold. It names
// the key only when it is short and looks like a key name: a token pasted
// by mistake must not reach the terminal.
func unknownKey(k string) error {
	const known = "url, email, access_token, token_type, expires, expires_in (or git's protocol, host, path, username, password)"
	if looksLikeKey(k) {
		hint := ""
		if l := strings.ToLower(strings.TrimSpace(k)); l != k && urlKey(l) {
			hint = fmt.Sprintf(" (did you mean %s=? keys are lower case, with no spaces around '=')", l)
		}
		return bad("unknown key %s in the request%s; the keys are %s", strconv.Quote(k), hint, known)
	}
	return bad("a request line is not a known key=value pair (not shown: it may hold a secret); the keys are %s", known)
}

func looksLikeKey(k string) bool {
	t := strings.TrimSpace(k)
	if t == "" || len(k) > 24 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == ' ' || c == '[' || c == ']') {
			return false
		}
	}
	// Random text mixes cases; key names are lower, upper or capitalised.
	rest := t[1:]
	return strings.ToLower(t) == t || strings.ToUpper(t) == t || strings.ToLower(rest) == rest
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

// expiry returns the expiry a store request asks for: expires=,
// expires_in= or password_expiry_utc=, else DefaultLifetime from now.
func (f *Commands) expiry(a protocol.Attributes) (store.Expiry, error) {
	var given []string
	for _, k := range []string{"expires", "expires_in", "password_expiry_utc"} {
		if _, ok := a.Get(k); ok {
			given = append(given, k+"=")
		}
	}
	if len(given) > 1 {
		return store.Expiry{}, bad("give only one of %s", strings.Join(given, ", "))
	}
	now := f.now()
	if v, ok := a.Get("expires"); ok {
		e, err := store.ParseDateTime(v)
		if err != nil {
			return e, bad("expires=%s is not a date-time with a zone, e.g. 2025-01-31T12:00:00Z or 2025-01-31T12:00:00+01:00", text.Quote(v))
		}
		return e, nil
	}
	if v, ok := a.Get("expires_in"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || strings.HasPrefix(v, "+") || n > 100*365*24*3600 {
			return store.Expiry{}, bad("expires_in=%s is not a number of seconds (a whole number from 0 to 3153600000)", text.Quote(v))
		}
		return store.ExpiryFromTime(now.Add(time.Duration(n) * time.Second).UTC().Truncate(time.Second)), nil
	}
	if v, ok := a.Get("password_expiry_utc"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 253402300799 {
			return store.Expiry{}, bad("password_expiry_utc=%s is not a Unix time in seconds", text.Quote(v))
		}
		return store.ExpiryFromTime(time.Unix(n, 0).UTC()), nil
	}
	return store.ExpiryFromTime(now.Add(DefaultLifetime).UTC().Truncate(time.Second)), nil
}
