package authjson

import (
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
