package store

import (
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// DefaultURL is the instance cryosparc-tools falls back to when no URL is
// given and no session is stored.
const DefaultURL = "http://localhost:61000"

// match returns the instances that url names: the one stored under url
// exactly or, when there is none, those stored under the same canonical URL.
func (s *Sessions) match(raw string) []int {
	for i := range s.instances {
		if s.instances[i].url == raw {
			return []int{i}
		}
	}
	canon, err := CanonicalURL(raw)
	if err != nil {
		return nil
	}
	may := hostFilter(canon)
	var out []int
	for i := range s.instances {
		key := s.instances[i].url
		if !may(key) {
			continue // cheap: most keys are for other hosts
		}
		if c, err := CanonicalURL(key); err == nil && c == canon {
			out = append(out, i)
		}
	}
	return out
}

// matchOrigin returns the instances whose URL has the same scheme, host and
// port as raw, whatever their path.
func (s *Sessions) matchOrigin(raw string) []int {
	want, _, err := SplitURL(raw)
	var out []int
	for i := range s.instances {
		key := s.instances[i].url
		if key == raw {
			out = append(out, i)
		} else if origin, _, kerr := SplitURL(key); err == nil && kerr == nil && origin == want {
			out = append(out, i)
		}
	}
	return out
}

// SplitURL returns raw in canonical form (see CanonicalURL), split into
// its origin, scheme://host[:port], and its path ("" or "/…").
func SplitURL(raw string) (origin, path string, err error) {
	c, err := CanonicalURL(raw)
	if err != nil {
		return "", "", err
	}
	host := strings.Index(c, "://") + 3
	if i := strings.IndexByte(c[host:], '/'); i >= 0 {
		return c[:host+i], c[host+i:], nil
	}
	return c, "", nil
}

// mayName returns which instance keys a lookup of url may answer from: the
// key url itself, or one with the same canonical form. Nil when every
// instance may (no URL given).
func mayName(url string) func(key string) bool {
	if url == "" {
		return nil
	}
	canon, err := CanonicalURL(url)
	if err != nil {
		return func(key string) bool { return key == url }
	}
	may := hostFilter(canon)
	return func(key string) bool { return key == url || may(key) }
}

// hostFilter returns a quick test that every key with the canonical form
// canon passes: its text holds the URL's host name in some case, or escapes
// that could spell it. Keys that fail it cannot have that canonical form.
func hostFilter(canon string) func(key string) bool {
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

// WithScheme returns url with http:// in front when it has no scheme, as
// cryosparc-tools reads a URL such as cryosparc.example.com:39000.
func WithScheme(url string) string { return urlrule.WithScheme(url) }

// ErrBadURL reports an instance URL that cannot be used. It is
// urlrule.ErrBadURL, which internal/api returns too.
var ErrBadURL = urlrule.ErrBadURL

// CanonicalURL returns raw in the form sessions are stored under: http://
// added when it has no scheme, scheme and host in lower case, a default port
// and trailing slashes dropped. It refuses a URL that is not http or https,
// has no host, or has user:password (any '@', wherever it is: a password
// may hold '/', '?' or '#'), a query or a fragment. Its errors show the URL
// through text.URL, so never what precedes an '@'.
func CanonicalURL(raw string) (string, error) { return urlrule.Canonical(raw) }
