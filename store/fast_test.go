package store

import (
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/authjson"
	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
)

// TestFastPathMatchesGeneral is the differential test of the fast-path
// boundary (fast.go): on random files, Lookup (the file mapped, the
// canonical reader, zero-copy strings, a keep filter) gives exactly what
// the general path gives: Load (a copy) + Find, Parse + Find, and the
// general parser alone on the same bytes + Find, for questions about every
// instance and email in the file, in other spellings, and about none.
// Files: sessiongen's (cryosparc-tools' layout, up to 1,500 sessions), the
// random shapes of compat_test.go (escapes, duplicates, every expiry form,
// odd layout, invalid entries), and those written back by Marshal.
func TestFastPathMatchesGeneral(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	files := 300
	if testing.Short() {
		files = 60
	}
	now := time.Now()
	opt := &Options{Now: func() time.Time { return now }, mapMin: 1}
	mapped := 0
	for i := 0; i < files; i++ {
		var data []byte
		switch i % 3 {
		case 0:
			data = sessiongen.SessionFile(r.Intn(1500), 1+r.Intn(60), now.Add(time.Duration(r.Intn(100)-20)*time.Hour))
		case 1:
			data = []byte(randomFile(r, 0.1))
		default:
			s, _ := Parse([]byte(randomFile(r, 0)), now)
			data = s.Marshal()
		}
		path := filepath.Join(t.TempDir(), "auth.json")
		c := newFakeFS(t, time.Nanosecond)
		c.write(path, data)
		c.now = c.now.Add(time.Hour) // not recent: Lookup maps it
		if snap, err := mapFile(path, c.options()); err == nil {
			if snap.unmap != nil {
				mapped++
			}
			snap.close()
		}

		general, gerr := generalParse(data, now)
		parsed, perr := Parse(data, now)
		loaded, lerr := Load(path, opt)
		for name, got := range map[string]struct {
			s   *Sessions
			err error
		}{"Parse": {parsed, perr}, "Load": {loaded, lerr}} {
			if (got.err == nil) != (gerr == nil) || string(got.s.Marshal()) != string(general.Marshal()) {
				t.Fatalf("seed %d, file %d (%d bytes): %s gives %v, the general parser %v, or other sessions", seed, i, len(data), name, got.err, gerr)
			}
		}
		for _, q := range questions(general, r) {
			want, wantOK := general.Find(q[0], q[1])
			for name, find := range map[string]func() (Session, bool, error){
				"Lookup": func() (Session, bool, error) { return Lookup(path, opt, q[0], q[1]) },
				"Load":   func() (Session, bool, error) { return loaded.findErr(q[0], q[1], lerr) },
			} {
				got, ok, err := find()
				if ok != wantOK || got != want || (err == nil) != (gerr == nil) {
					t.Fatalf("seed %d, file %d (%d bytes): %s(%q, %q) = %+v %v %v; general: %+v %v %v", seed, i, len(data), name, q[0], q[1], got, ok, err, want, wantOK, gerr)
				}
			}
		}
	}
	if mapped < files/3 {
		t.Errorf("only %d of %d files were mapped: the fast path was not tested", mapped, files)
	}
}

// findErr is Find with the error Load gave, to be compared like Lookup's.
func (s *Sessions) findErr(url, email string, err error) (Session, bool, error) {
	sess, ok := s.Find(url, email)
	return sess, ok, err
}

// generalParse reads data with the general parser only (never the
// canonical reader), as Parse reports it.
func generalParse(data []byte, now time.Time) (*Sessions, error) {
	if !utf8.Valid(data) {
		return &Sessions{}, errors.New("invalid UTF-8")
	}
	s, err := fromFile(authjson.ReadGeneral(data, now, nil))
	var inv *InvalidError
	if errors.As(err, &inv) && inv.Syntax() {
		return &Sessions{}, err
	}
	return s, err
}

// questions returns (url, email) pairs about s: every instance and email
// in it, as stored and in other spellings, the empty ones, and some that
// match nothing.
func questions(s *Sessions, r *rand.Rand) [][2]string {
	qs := [][2]string{{"", ""}, {"https://nowhere.example.com", ""}, {"", "nobody@example.com"}}
	all := s.All()
	for j := 0; j < 4 && len(all) > 0; j++ {
		sess := all[r.Intn(len(all))]
		qs = append(qs,
			[2]string{sess.URL, sess.Email}, [2]string{sess.URL, ""}, [2]string{"", sess.Email},
			[2]string{strings.ToUpper(sess.URL), sess.Email}, [2]string{sess.URL + "/", sess.Email},
			[2]string{strings.TrimPrefix(sess.URL, "https://"), ""}, [2]string{sess.URL, sess.Email + "x"},
			[2]string{fmt.Sprintf("%s:443", sess.URL), ""})
	}
	return qs
}
