// Package urlrule is the one rule for instance URLs: which are usable,
// and the canonical form sessions are stored under. store and internal/api
// both apply it, and both return its ErrBadURL.
package urlrule

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// WithScheme returns url with http:// in front when it has no scheme, as
// cryosparc-tools reads a URL such as cryosparc.example.com:39000.
func WithScheme(url string) string {
	if url != "" && !strings.Contains(url, "://") {
		return "http://" + url
	}
	return url
}

// ErrBadURL reports an instance URL that cannot be used.
var ErrBadURL = errkind.New(errkind.BadInput, "invalid instance URL")

// Canonical returns raw in the form sessions are stored under: http://
// added when it has no scheme, scheme and host in lower case, a default port
// and trailing slashes dropped. It refuses a URL that is not http or https,
// has no host, or has user:password (any '@', wherever it is: a password
// may hold '/', '?' or '#'), a query or a fragment. Its errors show the URL
// through text.URL, so never what precedes an '@'.
func Canonical(raw string) (string, error) {
	c, err := canonicalURL(raw)
	if err != nil {
		return "", err
	}
	// A host or path that does not survive a second round (such as an
	// escaped '%' in the host) is not one a browser would use either.
	if again, err := canonicalURL(c); err != nil || again != c {
		return "", badURL(raw, "it holds characters not allowed there")
	}
	return c, nil
}

func canonicalURL(raw string) (string, error) {
	if strings.TrimSpace(raw) != raw || raw == "" {
		return "", badURL(raw, "it is empty or has spaces around it")
	}
	if strings.Contains(raw, "@") {
		// Before parsing: https://alice:se/cret@h parses as a bad port,
		// https:/alice:secret@h (http:// added) as a host named https.
		return "", badURL(raw, "it holds '@', as a user name or password would; give the email separately, never a password")
	}
	s := WithScheme(raw)
	u, err := url.Parse(s)
	if err != nil {
		return "", badURL(raw, "it does not parse")
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme != "http" && scheme != "https":
		return "", badURL(raw, "its scheme is not http:// or https://")
	case u.User != nil:
		return "", badURL(raw, "it holds a user name or password; give the email separately")
	case u.RawQuery != "" || u.ForceQuery:
		return "", badURL(raw, "it has a query (?…)")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", badURL(raw, "it has a fragment (#…)")
	case u.Host == "" || u.Hostname() == "":
		return "", badURL(raw, "it has no host")
	case strings.EqualFold(u.Host, "http:") || strings.EqualFold(u.Host, "https:"):
		return "", badURL(raw, "its scheme is misspelt; write http://host or https://host")
	case u.Opaque != "":
		return "", badURL(raw, "it is not of the form scheme://host[:port][/path]")
	case strings.HasSuffix(u.Host, ":"):
		// An unset variable in "http://$HOST:$PORT": not the default port.
		return "", badURL(raw, "its port is empty; give the port after ':', or leave out the ':'")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", badURL(raw, "its port is not a number from 1 to 65535")
		}
		if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
			host = strings.TrimSuffix(host, ":"+port)
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return scheme + "://" + host + path, nil
}

type urlError struct {
	url, reason string
}

func (e *urlError) Error() string {
	return "instance URL " + text.URL(e.url) + " is not usable: " + e.reason
}

func (e *urlError) Unwrap() error { return ErrBadURL }

func badURL(raw, reason string) error { return &urlError{url: raw, reason: reason} }

// Split returns raw in canonical form (see Canonical), split into
// its origin, scheme://host[:port], and its path ("" or "/…").
func Split(raw string) (origin, path string, err error) {
	c, err := Canonical(raw)
	if err != nil {
		return "", "", err
	}
	host := strings.Index(c, "://") + 3
	if i := strings.IndexByte(c[host:], '/'); i >= 0 {
		return c[:host+i], c[host+i:], nil
	}
	return c, "", nil
}

// MayName returns which instance keys a lookup of url may answer from: the
// key url itself, or one with the same canonical form. Nil when every
// instance may (no URL given).
func MayName(url string) func(key string) bool {
	if url == "" {
		return nil
	}
	canon, err := Canonical(url)
	if err != nil {
		return func(key string) bool { return key == url }
	}
	may := HostFilter(canon)
	return func(key string) bool { return key == url || may(key) }
}

// HostFilter returns a quick test that every key with the canonical form
// canon passes: its text holds the URL's host name in some case, or escapes
// that could spell it. Keys that fail it cannot have that canonical form.
func HostFilter(canon string) func(key string) bool {
	host := canon[strings.Index(canon, "://")+3:]
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return func(key string) bool {
		// Non-ASCII text can change length when its case changes: let it
		// through to the exact comparison.
		return strings.Contains(key, "%") || !isASCII(key) || containsFold(key, host)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// containsFold reports whether the ASCII text s contains sub, ignoring case
// (sub is lower case).
func containsFold(s, sub string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.Contains(strings.ToLower(s), sub)
		}
	}
	return strings.Contains(s, sub)
}
