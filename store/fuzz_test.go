package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/authjson"
)

func addGoldenSeeds(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/golden/*.json") // inputs, and outputs in the canonical layout
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
}

// FuzzParse checks that Parse never panics, that a valid file writes out as
// something that parses back to the same bytes, and that a problem never
// quotes a token.
func FuzzParse(f *testing.F) {
	addGoldenSeeds(f)
	for _, s := range []string{"", "{}", "[]", `{"u": {}}`, `{"u": {"e": 5}}`, `{"u":{"e":{"token":{"access_token":"a","token_type":"bearer"},"expires":1e400}}}`, "{\"\\ud800\":{}}", `{"a":` + strings.Repeat("[", 250)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, fixedNow)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Problems) == 0 {
				t.Fatalf("error is not a usable *InvalidError: %v", err)
			}
		}
		if c, ok := parseCanonical(data); ok {
			// The fast path must agree with the general parser.
			g, err := parseGeneral(data)
			if err != nil {
				t.Fatalf("canonical layout accepted what the general parser rejects: %v", err)
			}
			if string(c.Marshal()) != string(g.Marshal()) {
				t.Fatalf("canonical and general parsers differ:\n%s\n---\n%s", c.Marshal(), g.Marshal())
			}
		}
		out := s.Marshal()
		if _, ok := parseCanonical(out); !ok {
			t.Fatalf("what Marshal writes does not take the fast path:\n%s", out)
		}
		s2, err := Parse(out, fixedNow)
		if err != nil {
			t.Fatalf("Marshal wrote a file that does not parse: %v\n%s", err, out)
		}
		if out2 := s2.Marshal(); string(out2) != string(out) {
			t.Fatalf("Marshal is not stable:\n%s\n---\n%s", out, out2)
		}
		// A file caught half written is seen as such, never as a whole
		// file or as one that is not a session file.
		for _, k := range []int{len(out) / 2, len(out) - 1} {
			_, err := Parse(out[:k], fixedNow)
			var inv *InvalidError
			if k > 0 && (!errors.As(err, &inv) || !inv.Truncated() || inv.Foreign()) {
				t.Fatalf("the first %d bytes of a file are not seen as a write in progress: %v\n%s", k, err, out[:k])
			}
		}
	})
}

// FuzzCanonicalURL checks that canonical URLs are fixed points and never
// carry user information, a query or a fragment.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"https://x", "HTTP://X:80/", "x:39000", "http://u:p@x", "http://x?q", "http://[::1]:80", "a://b/c%2F/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := CanonicalURL(raw)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("error not ErrBadURL: %v", err)
			}
			return
		}
		c2, err := CanonicalURL(c)
		if err != nil || c2 != c {
			t.Fatalf("CanonicalURL(%q) = %q, but CanonicalURL of that = %q, %v", raw, c, c2, err)
		}
		if strings.ContainsAny(c, "?#") {
			t.Fatalf("canonical %q holds ? or #", c)
		}
		if u, err := url.Parse(c); err != nil || u.User != nil {
			t.Fatalf("canonical %q holds user information", c)
		}
	})
}

func parseCanonical(data []byte) (*Sessions, bool) {
	f, ok := authjson.ReadCanonical(data, fixedNow, nil)
	if !ok {
		return nil, false
	}
	s, _ := fromFile(f)
	return s, true
}

func parseGeneral(data []byte) (*Sessions, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	s, err := fromFile(authjson.ReadGeneral(data, fixedNow, nil))
	var inv *InvalidError
	if errors.As(err, &inv) && inv.Syntax() {
		return nil, err
	}
	return s, err
}

// The layout's first and between-instances pieces (internal/authjson's
// layoutOpen and layoutNextInst).
const (
	layoutOpen     = "{\n    "
	layoutNextInst = ",\n    "
)

// TestCanonicalLargeFile checks the canonical reader on a large file
// against the general parser, with an instance repeated far apart and with
// damage anywhere.
func TestCanonicalLargeFile(t *testing.T) {
	_, data := benchFile(80000)
	// Repeat the first instance at the end: its later value wins, at its
	// first place.
	first := data[len(layoutOpen):bytes.Index(data, []byte(layoutNextInst+`"`))]
	dup := append(append(append([]byte{}, data[:len(data)-2]...), ",\n    "...), first...)
	dup = append(dup, "\n}"...)
	for name, d := range map[string][]byte{"plain": data, "duplicate across halves": dup} {
		c, ok := parseCanonical(d)
		if !ok {
			t.Fatalf("%s: the canonical reader gave up", name)
		}
		g, err := parseGeneral(d)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.Marshal()) != string(g.Marshal()) {
			t.Errorf("%s: canonical and general reads differ", name)
		}
	}
	// Damage in either half makes the canonical reader give up.
	for _, at := range []int{len(data) / 4, len(data) * 3 / 4} {
		bad := append([]byte{}, data...)
		i := at + bytes.Index(bad[at:], []byte(`"token_type"`))
		bad[i+1] = 'T'
		if _, ok := parseCanonical(bad); ok {
			t.Errorf("damage at %d not noticed", i)
		}
		if _, err := parseGeneral(bad); err == nil {
			t.Errorf("general parser misses damage at %d", i)
		}
	}
}

// TestCanonicalManyDates reads a canonical file whose expiries jump between
// months, years and offsets, against the general parser.
func TestCanonicalManyDates(t *testing.T) {
	t.Log("seed 3")
	r := rand.New(rand.NewSource(3))
	var s Sessions
	for i := 0; i < 3000; i++ {
		t0 := time.Date(2027+r.Intn(80), time.Month(1+r.Intn(12)), 1+r.Intn(31), r.Intn(24), r.Intn(60), r.Intn(60), r.Intn(2)*r.Intn(1e9), time.UTC)
		zone := time.FixedZone("", (r.Intn(2*1439)-1439)*60)
		if r.Intn(3) == 0 {
			zone = time.UTC
		}
		s.Insert(Session{URL: fmt.Sprintf("https://cs%d", r.Intn(5)), Email: fmt.Sprintf("u%d", i), Token: "t", Expires: ExpiryFromTime(t0.In(zone))})
	}
	data := s.Marshal()
	c, ok := parseCanonical(data)
	if !ok {
		t.Fatal("the canonical reader gave up on what Marshal wrote")
	}
	g, err := parseGeneral(data)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Marshal()) != string(data) || string(g.Marshal()) != string(data) {
		t.Error("canonical or general reading changes the file")
	}
}

// TestCanonicalUTF8 checks that the canonical reader, which skips the
// whole-file UTF-8 check, still refuses invalid UTF-8 in any string and
// accepts valid text that is not ASCII.
func TestCanonicalUTF8(t *testing.T) {
	var s Sessions
	exp := ExpiryFromTime(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	s.Insert(Session{URL: "https://ü.example/é", Email: "例え@x", Token: "tok-€-😀-" + string(make([]byte, 0)), Expires: exp})
	s.Insert(Session{URL: "https://b.example", Email: "b@x", Token: "plain", Expires: exp})
	good := s.Marshal()
	if _, ok := parseCanonical(good); !ok {
		t.Fatal("the canonical reader refuses valid non-ASCII text")
	}
	for _, target := range []string{"例え@x", "tok-€", "ü.example", "b@x", "plain"} {
		i := bytes.Index(good, []byte(target))
		for _, junk := range [][]byte{{0xff}, {0xc3}, {0xe2, 0x82}, {0xed, 0xa0, 0x80}} {
			bad := append(append(append([]byte{}, good[:i]...), junk...), good[i:]...)
			if _, ok := parseCanonical(bad); ok {
				t.Errorf("canonical reader accepts invalid UTF-8 % x before %q", junk, target)
			}
			_, err := Parse(bad, fixedNow)
			var inv *InvalidError
			if !errors.As(err, &inv) || !inv.Syntax() {
				t.Errorf("Parse accepts invalid UTF-8 % x before %q: %v", junk, target, err)
			}
		}
	}
}
