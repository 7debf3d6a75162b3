package store

import (
	"time"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/authjson"
)

// Parse reads the bytes of a session file as cryosparc-tools does, dropping
// sessions that expired at or before now. When the file holds anything that
// cryosparc-tools would reject, Parse returns the valid part together with an
// *InvalidError; when it is not JSON at all, the valid part is empty. The
// result shares nothing with data.
func Parse(data []byte, now time.Time) (*Sessions, error) {
	s, err := parse(data, now, nil)
	if s != nil {
		s.detach()
	}
	return s, err
}

// parse reads data with internal/authjson (keep as there) into Sessions
// whose strings without escapes point into data.
func parse(data []byte, now time.Time, keep func(url string) bool) (*Sessions, error) {
	return fromFile(authjson.Read(data, now, keep))
}

// fromFile converts what authjson read: the instances (their sessions
// shared, not copied), the problems into an *InvalidError.
func fromFile(f authjson.File) (*Sessions, error) {
	s := &Sessions{}
	if len(f.Instances) > 0 {
		s.instances = make([]instance, len(f.Instances))
	}
	for i, in := range f.Instances {
		s.instances[i] = instance{url: in.URL, sessions: in.Sessions}
	}
	if len(f.Problems) == 0 {
		return s, nil
	}
	problems := make([]Problem, len(f.Problems))
	for i, p := range f.Problems {
		problems[i] = Problem(p)
	}
	return s, &InvalidError{Problems: problems, foreign: f.Foreign, cut: f.Cut}
}

// Marshal returns the file content cryosparc-tools' save() writes for s:
// model_dump_json(indent=4), byte for byte, with no trailing newline.
func (s *Sessions) Marshal() []byte {
	size := 2
	for _, in := range s.instances {
		size += len(in.url) + 16
		for _, sess := range in.sessions {
			size += len(sess.Email) + len(sess.Token) + 200
		}
	}
	var w authjson.Writer
	w.Grow(size)
	for _, in := range s.instances {
		w.Instance(in.url)
		for _, sess := range in.sessions {
			w.Session(sess.Email, sess.Token, sess.Expires)
		}
	}
	return w.Bytes()
}

// validText reports whether s can be written to the file: valid UTF-8
// (cryosparc-tools cannot read anything else back).
func validText(s string) bool { return utf8.ValidString(s) }
