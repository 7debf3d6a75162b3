package authjson

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

func TestMarshalLayout(t *testing.T) {
	exp := expiry.FromTime(time.Date(2099, 1, 31, 12, 0, 0, 0, time.UTC))
	sess := func(email string) Session { return Session{Email: email, Token: "t\"1", Expires: exp} }
	const one = `"a@x": {
            "token": {
                "access_token": "t\"1",
                "token_type": "bearer"
            },
            "expires": "2099-01-31T12:00:00Z"
        }`
	for _, c := range []struct {
		name string
		in   []Instance
		want string
	}{
		{"none", nil, "{}"},
		{"an empty instance", []Instance{{URL: "https://e"}}, "{\n    \"https://e\": {}\n}"},
		{"one session", []Instance{{URL: "https://a", Sessions: []Session{sess("a@x")}}},
			"{\n    \"https://a\": {\n        " + one + "\n    }\n}"},
		{"two sessions, then an empty instance", []Instance{{URL: "https://a", Sessions: []Session{sess("a@x"), sess("a@x")}}, {URL: "https://e"}},
			"{\n    \"https://a\": {\n        " + one + ",\n        " + one + "\n    },\n    \"https://e\": {}\n}"},
	} {
		if got := string(Marshal(c.in)); got != c.want {
			t.Errorf("%s: Marshal =\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

func TestReadFacts(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exp := expiry.FromTime(now.Add(time.Hour))
	valid := Marshal([]Instance{
		{URL: "https://a", Sessions: []Session{{Email: "a@x", Token: "ta", Expires: exp}}},
		{URL: "https://b", Sessions: []Session{{Email: "b@x", Token: "tb", Expires: exp}, {Email: "old@x", Token: "to", Expires: expiry.FromTime(now)}}},
	})
	for _, c := range []struct {
		name                   string
		data                   string
		keep                   func(string) bool
		urls                   []string
		sessions               int
		problems               int
		syntax, cut, foreign   bool
		firstLine, firstColumn int
	}{
		{name: "valid, the expired dropped", data: string(valid), urls: []string{"https://a", "https://b"}, sessions: 2},
		{name: "keep", data: string(valid), keep: func(u string) bool { return u == "https://b" }, urls: []string{"https://b"}, sessions: 1},
		{name: "cut short", data: string(valid[:len(valid)/2]), problems: 1, syntax: true, cut: true},
		{name: "not an object", data: "[1]", problems: 1, syntax: true, foreign: true, firstLine: 1, firstColumn: 1},
		{name: "an object of no sessions", data: `{"a": 1}`, problems: 1, foreign: true, firstLine: 1, firstColumn: 7},
		{name: "a bad session beside a good one", data: `{"https://a": {"x": 5, "y": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`,
			urls: []string{"https://a"}, sessions: 1, problems: 1, firstLine: 1, firstColumn: 21},
		{name: "invalid UTF-8", data: "{\"a\xff\": {}}", problems: 1, syntax: true, foreign: true, firstLine: 1, firstColumn: 4},
	} {
		f := Read([]byte(c.data), now, c.keep)
		var urls []string
		n := 0
		for _, in := range f.Instances {
			urls = append(urls, in.URL)
			n += len(in.Sessions)
		}
		if len(urls) != len(c.urls) || n != c.sessions || len(f.Problems) != c.problems || f.Cut != c.cut || f.Foreign != c.foreign {
			t.Errorf("%s: instances %q, %d sessions, problems %+v, cut %v, foreign %v; want %q, %d, %d problems, %v, %v",
				c.name, urls, n, f.Problems, f.Cut, f.Foreign, c.urls, c.sessions, c.problems, c.cut, c.foreign)
			continue
		}
		for i := range urls {
			if urls[i] != c.urls[i] {
				t.Errorf("%s: instances %q, want %q", c.name, urls, c.urls)
			}
		}
		if c.problems > 0 {
			p := f.Problems[0]
			if p.Syntax != c.syntax || c.firstLine > 0 && (p.Line != c.firstLine || p.Column != c.firstColumn) {
				t.Errorf("%s: first problem %+v, want syntax %v at %d:%d", c.name, p, c.syntax, c.firstLine, c.firstColumn)
			}
		}
	}
}

// pieces records what each Write call got; failAt > 0 fails that call.
type pieces struct {
	got    []byte
	calls  int
	failAt int
}

func (p *pieces) Write(b []byte) (int, error) {
	p.calls++
	if p.calls == p.failAt {
		return 3, errors.New("disk full")
	}
	p.got = append(p.got, b...)
	return len(b), nil
}

// TestWriteInPieces: Write writes exactly Marshal's bytes, whatever the
// size of its pieces, and reports how many; a failed write ends it with
// that error and the bytes written until then.
func TestWriteInPieces(t *testing.T) {
	exp := expiry.FromTime(time.Date(2099, 1, 31, 12, 0, 0, 0, time.UTC))
	var many []Instance
	for i := range 30 {
		in := Instance{URL: fmt.Sprintf("https://cs%d.example.com", i)}
		for j := range i % 7 {
			in.Sessions = append(in.Sessions, Session{Email: fmt.Sprintf("u%d\"@x", j), Token: strings.Repeat("t\n", i), Expires: exp})
		}
		many = append(many, in)
	}
	for _, c := range []struct {
		name  string
		in    []Instance
		piece int
	}{
		{"none", nil, 64},
		{"an empty instance", many[:1], 64},
		{"many, one piece", many, 1 << 20},
		{"many, a piece a session", many, 1},
		{"many, pieces of 300 bytes", many, 300},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := Marshal(c.in)
			var p pieces
			n, err := Write(&p, c.in, c.piece)
			if err != nil || n != len(want) || string(p.got) != string(want) {
				t.Fatalf("Write = %d bytes, %v; wrote\n%s\nwant %d bytes:\n%s", n, err, p.got, len(want), want)
			}
			if c.piece == 1 && p.calls < len(c.in) {
				t.Errorf("%d writes for pieces of 1 byte", p.calls)
			}
			if p.calls > 1 {
				f := pieces{failAt: 2}
				n, err := Write(&f, c.in, c.piece)
				if err == nil || err.Error() != "disk full" || n != len(f.got)+3 {
					t.Errorf("a failed write: %d bytes, %v; want the error and %d", n, err, len(f.got)+3)
				}
			}
		})
	}
}
