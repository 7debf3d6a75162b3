package store

import (
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/authjson"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// Session is one stored login: an instance URL and email with the bearer
// token the instance issued and the time it expires:
//
//	type Session struct {
//		URL     string // the instance URL, as stored
//		Email   string
//		Token   string // the bearer access token
//		Expires Expiry
//	}
//
// It is internal/authjson's record (as Expiry is internal/expiry's), so
// that the sessions read are not copied one by one: measured, such a copy
// cost a store into 10,000 sessions about 150 page faults
// (docs/performance.md).
type Session = authjson.Session

type instance struct {
	url      string
	sessions []Session
}

// Sessions is the content of a session file: instances in file order, each
// with its sessions by email in file order. Reading it (Find, All, Len,
// Instances, Marshal) changes nothing; it is not safe for concurrent
// changes.
type Sessions struct {
	instances []instance
}

// detach gives s copies of the strings it holds, which the parser left
// pointing into the bytes it read (no copy is made while answering one
// lookup).
func (s *Sessions) detach() {
	for i := range s.instances {
		in := &s.instances[i]
		in.url = strings.Clone(in.url)
		for j := range in.sessions {
			sess := &in.sessions[j]
			sess.URL, sess.Email, sess.Token = strings.Clone(sess.URL), strings.Clone(sess.Email), strings.Clone(sess.Token)
		}
	}
}

// Len returns the number of sessions held.
func (s *Sessions) Len() int {
	n := 0
	for _, in := range s.instances {
		n += len(in.sessions)
	}
	return n
}

// All returns every session in file order.
func (s *Sessions) All() []Session {
	out := make([]Session, 0, s.Len())
	for _, in := range s.instances {
		out = append(out, in.sessions...)
	}
	return out
}

// Instances returns the instance URLs in file order, including those with no
// session left.
func (s *Sessions) Instances() []string {
	out := make([]string, len(s.instances))
	for i, in := range s.instances {
		out[i] = in.url
	}
	return out
}

// Find returns the session cryosparc-tools' find(url, email) returns: with no
// URL, the first instance with a session (for email, when given); then that
// instance's first session (whose email is email, when given). When no
// instance is stored under url exactly, one stored under the same URL in
// canonical form is used. Empty url or email mean "any".
func (s *Sessions) Find(url, email string) (Session, bool) {
	if url == "" {
		for i := range s.instances {
			if in := &s.instances[i]; in.hasEmail(email) {
				url = in.url
				break
			}
		}
		if url == "" {
			url = DefaultURL
		}
	}
	// cryosparc-tools looks in the one instance the URL names, no further.
	if idx := s.match(url); len(idx) > 0 {
		in := &s.instances[idx[0]]
		if j, ok := in.find(email); ok {
			return in.sessions[j], true
		}
	}
	return Session{}, false
}

func (in *instance) hasEmail(email string) bool {
	_, ok := in.find(email)
	return ok
}

func (in *instance) find(email string) (int, bool) {
	for j := range in.sessions {
		if email == "" || in.sessions[j].Email == email {
			return j, true
		}
	}
	return 0, false
}

// Insert adds a session or replaces the one stored for the same instance and
// email, keeping its place, as cryosparc-tools' insert does. A new instance
// is stored under its URL in canonical form. It returns the instance key
// the session is stored under.
func (s *Sessions) Insert(sess Session) (key string, err error) {
	if !validText(sess.URL) || !validText(sess.Email) || !validText(sess.Token) {
		return "", ErrNotUTF8
	}
	key = sess.URL
	if len(s.match(key)) == 0 {
		if key, err = CanonicalURL(key); err != nil {
			return "", err
		}
	}
	return s.put(key, sess), nil
}

// put stores sess in the instance url names (as match finds it), replacing
// the session of the same email in place; an instance that is not there is
// added under url as it is. It returns the instance key used.
func (s *Sessions) put(url string, sess Session) string {
	idx := s.match(url)
	if len(idx) == 0 {
		s.instances = append(s.instances, instance{url: url})
		idx = []int{len(s.instances) - 1}
	}
	in := &s.instances[idx[0]]
	sess.URL = in.url
	for j := range in.sessions {
		if in.sessions[j].Email == sess.Email {
			in.sessions[j] = sess
			return in.url
		}
	}
	in.sessions = append(in.sessions, sess)
	return in.url
}

// Filter selects sessions to erase; an empty field matches everything.
type Filter struct {
	URL   string  // the instance, as Find resolves it; "" for every instance
	Email string  // "" for every email
	Token *string // when not nil, only a session holding this token
	// AnyPath makes URL match every instance of the same scheme, host and
	// port, whatever its path: git's rule for a request without a path.
	AnyPath bool
}

// Erase removes the sessions that f selects; an instance left with no
// session by it is removed too, as is an instance erased by URL alone. It
// returns how many sessions and instances it removed: 0 means nothing changed.
func (s *Sessions) Erase(f Filter) int {
	url, email := f.URL, f.Email
	var idx []int
	switch {
	case url != "" && f.AnyPath:
		idx = s.matchOrigin(url)
	case url != "":
		idx = s.match(url)
	default:
		for i := range s.instances {
			idx = append(idx, i)
		}
	}
	whole := email == "" && f.Token == nil
	removed := 0
	drop := map[int]bool{}
	for _, i := range idx {
		in := &s.instances[i]
		kept := in.sessions[:0]
		for _, sess := range in.sessions {
			if (email == "" || sess.Email == email) && (f.Token == nil || sess.Token == *f.Token) {
				continue
			}
			kept = append(kept, sess)
		}
		gone := len(in.sessions) - len(kept)
		removed += gone
		in.sessions = kept
		if len(kept) == 0 && (gone > 0 || url != "" && whole) {
			drop[i] = true
			removed++
		}
	}
	if len(drop) > 0 {
		out := s.instances[:0]
		for i, in := range s.instances {
			if !drop[i] {
				out = append(out, in)
			}
		}
		s.instances = out
	}
	return removed
}

// ErrNotUTF8 reports text that cannot be stored because it is not UTF-8.
var ErrNotUTF8 = errkind.New(errkind.BadInput, "text is not valid UTF-8")
