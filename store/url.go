package store

import (
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
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
	may := urlrule.HostFilter(canon)
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
func SplitURL(raw string) (origin, path string, err error) { return urlrule.Split(raw) }

// WithScheme returns url with http:// in front when it has no scheme, as
// cryosparc-tools reads a URL such as cryosparc.example.com:39000.
func WithScheme(url string) string { return urlrule.WithScheme(url) }

// ErrBadURL reports an instance URL that cannot be used. It is
// urlrule.ErrBadURL (the same value), which internal/api returns too.
var ErrBadURL = errkind.New(errkind.BadInput, "invalid instance URL")

// CanonicalURL returns raw in the form sessions are stored under: http://
// added when it has no scheme, scheme and host in lower case, a default port
// and trailing slashes dropped. It refuses a URL that is not http or https,
// has no host, or has user:password (any '@', wherever it is: a password
// may hold '/', '?' or '#'), a query or a fragment. Its errors show the URL
// through text.URL, so never what precedes an '@'.
func CanonicalURL(raw string) (string, error) { return urlrule.Canonical(raw) }
