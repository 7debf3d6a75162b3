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
