package store

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedNow is the clock of the tests that need one: golden files hold
// sessions that expire in 2001 (dropped) and 2098–2099 (kept).
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestGolden parses each testdata/golden/*.in.json and checks the bytes
// Marshal writes against *.out.json, and those against the pydantic model.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/*.in.json")
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(data, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Marshal()
			out := strings.TrimSuffix(in, ".in.json") + ".out.json"
			if *update {
				os.WriteFile(out, got, 0o644)
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("Marshal differs from %s:\n%s", out, got)
			}
			if testing.Short() {
				return // the comparison with pydantic takes a Python start per file
			}
			if py := pythonDump(t, in); py != nil && string(py) != string(want) {
				t.Errorf("pydantic writes something else than %s:\n%s", out, py)
			}
		})
	}
}

// pythonDump returns what the pydantic model's load + save writes for the
// file at path.
func pythonDump(t *testing.T, path string) []byte {
	t.Helper()
	out, err := testkit.CSTools(t, "dump", path).Output()
	if err != nil {
		t.Fatalf("python dump %s: %v", path, err)
	}
	return out
}

func mustExpiry(t *testing.T, s string) Expiry {
	t.Helper()
	e, err := ParseDateTime(s)
	if err != nil {
		t.Fatalf("ParseDateTime(%q): %v", s, err)
	}
	return e
}

func TestMarshalInserted(t *testing.T) {
	var s Sessions
	if got := string(s.Marshal()); got != "{}" {
		t.Errorf("empty Marshal = %q, want {}", got)
	}
	exp := mustExpiry(t, "2099-01-02T03:04:05.000007-09:30")
	for _, sess := range []Session{
		{URL: "https://b.example.com", Email: "z@x", Token: "t\x01\"\\é\u2028", Expires: exp},
		{URL: "https://a.example.com", Email: "a@x", Token: "1", Expires: exp},
		{URL: "https://b.example.com", Email: "a@x", Token: "2", Expires: exp},
	} {
		if _, err := s.Insert(sess); err != nil {
			t.Fatal(err)
		}
	}
	want := `{
    "https://b.example.com": {
        "z@x": {
            "token": {
                "access_token": "t\u0001\"\\é` + "\u2028" + `",
                "token_type": "bearer"
            },
            "expires": "2099-01-02T03:04:05.000007-09:30"
        },
        "a@x": {
            "token": {
                "access_token": "2",
                "token_type": "bearer"
            },
            "expires": "2099-01-02T03:04:05.000007-09:30"
        }
    },
    "https://a.example.com": {
        "a@x": {
            "token": {
                "access_token": "1",
                "token_type": "bearer"
            },
            "expires": "2099-01-02T03:04:05.000007-09:30"
        }
    }
}`
	if got := string(s.Marshal()); got != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
}

func TestFind(t *testing.T) {
	file := `{
	"https://empty.example.com": {},
	"https://old.example.com": {"bo@x": {"token": {"access_token": "old", "token_type": "bearer"}, "expires": "2001-01-01T00:00:00Z"}},
	"https://A.example.com": {
		"ali@x": {"token": {"access_token": "A-ali", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
		"bo@x": {"token": {"access_token": "A-bo", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}
	},
	"https://b.example.com:443/": {"cy@x": {"token": {"access_token": "b-cy", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}},
	"http://localhost:61000": {"lo@x": {"token": {"access_token": "local", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}
}`
	s, err := Parse([]byte(file), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, email, wantToken string
	}{
		{"no url, no email: first instance with a session", "", "", "A-ali"},
		{"no url, email: first instance holding that email", "", "cy@x", "b-cy"},
		{"no url, unknown email: localhost default has no such email", "", "zz@x", ""},
		{"exact url, no email: first session", "https://A.example.com", "", "A-ali"},
		{"exact url and email", "https://A.example.com", "bo@x", "A-bo"},
		{"canonical fallback: case", "https://a.example.com", "bo@x", "A-bo"},
		{"canonical fallback: default port and slash", "HTTPS://B.example.com", "", "b-cy"},
		{"instance whose only session expired", "https://old.example.com", "", ""},
		{"empty instance", "https://empty.example.com", "", ""},
		{"email compared exactly", "https://A.example.com", "ALI@x", ""},
		{"unknown instance", "https://c.example.com", "", ""},
		{"path is part of the URL", "https://A.example.com/x", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Find(tt.url, tt.email)
			if ok != (tt.wantToken != "") || got.Token != tt.wantToken {
				t.Errorf("Find(%q, %q) = %q, %v; want %q", tt.url, tt.email, got.Token, ok, tt.wantToken)
			}
		})
	}
	// With no live session anywhere, find falls back to localhost.
	s2, _ := Parse([]byte(`{"http://localhost:61000": {}, "https://x": {}}`), fixedNow)
	if _, ok := s2.Find("", ""); ok {
		t.Error("Find on sessions-free file found something")
	}
}

func TestInsertAndErase(t *testing.T) {
	exp := mustExpiry(t, "2099-01-01T00:00:00Z")
	tok := func(s string) *string { return &s }
	tests := []struct {
		name   string
		start  string // instance:email=token, ...
		insert []Session
		erase  *Filter
		want   string
		n      int
	}{
		{name: "append new instance in canonical form", start: "https://a.example.com:ali=1",
			insert: []Session{{URL: "HTTPS://B.example.com:443/", Email: "bo", Token: "2"}},
			want:   "https://a.example.com:ali=1 https://b.example.com:bo=2"},
		{name: "replace keeps place", start: "https://a:ali=1,bo=2",
			insert: []Session{{URL: "https://a", Email: "ali", Token: "3"}},
			want:   "https://a:ali=3,bo=2"},
		{name: "same canonical URL goes under the existing key", start: "https://A.example.com/:ali=1",
			insert: []Session{{URL: "https://a.example.com", Email: "bo", Token: "2"}},
			want:   "https://A.example.com/:ali=1,bo=2"},
		{name: "scheme-less URL gets http", start: "",
			insert: []Session{{URL: "cryosparc:39000", Email: "bo", Token: "2"}},
			want:   "http://cryosparc:39000:bo=2"},
		{name: "erase one email", start: "https://a:ali=1,bo=2 https://b:ali=3",
			erase: &Filter{URL: "https://a", Email: "ali"}, want: "https://a:bo=2 https://b:ali=3", n: 1},
		{name: "erase last email drops the instance", start: "https://a:ali=1 https://b:ali=3",
			erase: &Filter{URL: "https://a", Email: "ali"}, want: "https://b:ali=3", n: 2},
		{name: "erase instance", start: "https://a:ali=1,bo=2 https://b:ali=3",
			erase: &Filter{URL: "https://a"}, want: "https://b:ali=3", n: 3},
		{name: "erase empty instance by URL", start: "https://a: https://b:ali=3",
			erase: &Filter{URL: "https://a"}, want: "https://b:ali=3", n: 1},
		{name: "erase with other token erases nothing", start: "https://a:ali=1",
			erase: &Filter{URL: "https://a", Email: "ali", Token: tok("other")}, want: "https://a:ali=1", n: 0},
		{name: "erase with same token", start: "https://a:ali=1,bo=1",
			erase: &Filter{URL: "https://a", Token: tok("1")}, want: "", n: 3},
		{name: "erase email everywhere", start: "https://a:ali=1,bo=2 https://b:ali=3",
			erase: &Filter{Email: "ali"}, want: "https://a:bo=2", n: 3},
		{name: "erase unknown leaves all", start: "https://a: https://b:ali=3",
			erase: &Filter{URL: "https://c"}, want: "https://a: https://b:ali=3", n: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := build(t, tt.start, exp)
			for _, sess := range tt.insert {
				sess.Expires = exp
				if _, err := s.Insert(sess); err != nil {
					t.Fatal(err)
				}
			}
			if tt.erase != nil {
				if n := s.Erase(*tt.erase); n != tt.n {
					t.Errorf("Erase removed %d, want %d", n, tt.n)
				}
			}
			if got := describe(s); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// build makes Sessions from "url:email=token,email=token url2:…".
func build(t *testing.T, spec string, exp Expiry) *Sessions {
	s := &Sessions{}
	for _, inst := range strings.Fields(spec) {
		i := strings.LastIndex(inst, ":")
		in := instance{url: inst[:i]}
		if rest := inst[i+1:]; rest != "" {
			for _, kv := range strings.Split(rest, ",") {
				e, tok, _ := strings.Cut(kv, "=")
				in.sessions = append(in.sessions, Session{URL: in.url, Email: e, Token: tok, Expires: exp})
			}
		}
		s.instances = append(s.instances, in)
	}
	return s
}

func describe(s *Sessions) string {
	var parts []string
	for _, in := range s.instances {
		var kv []string
		for _, sess := range in.sessions {
			kv = append(kv, sess.Email+"="+sess.Token)
		}
		parts = append(parts, in.url+":"+strings.Join(kv, ","))
	}
	return strings.Join(parts, " ")
}

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://cryosparc.example.com", "https://cryosparc.example.com"},
		{"HTTPS://CryoSPARC.Example.COM/", "https://cryosparc.example.com"},
		{"http://x:80", "http://x"},
		{"https://x:443/", "https://x"},
		{"http://x:443", "http://x:443"},
		{"https://x:39000", "https://x:39000"},
		{"x:39000", "http://x:39000"},
		{"localhost", "http://localhost"},
		{"https://x/Path/", "https://x/Path"},
		{"http://[::1]:39000/", "http://[::1]:39000"},
	}
	for _, tt := range tests {
		got, err := CanonicalURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", " http://x", "https://user:SECRET@x", "https://SECRET@x", "http://x?q=1", "http://x/?", "http://x#f", "http://", "http:///path", "https://:39000", "mailto:x@y", "https://x:0", "https://x:65536", "https://x:99999", "https://x:-1", "https://x y", "ftp://x",
		// An empty port: an unset variable in "http://$HOST:$PORT", refused at once.
		"http://x:", "x:", "https://x:/path", "http://[::1]:"} {
		_, err := CanonicalURL(bad)
		if !errors.Is(err, ErrBadURL) {
			t.Errorf("CanonicalURL(%q) error = %v, want ErrBadURL", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("CanonicalURL(%q) error leaks the password: %v", bad, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	envOf := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name, goos string
		env        func(string) (string, bool)
		want       string
	}{
		{"linux default", "linux", envOf(), "/home/u/.config/cryosparc-tools/auth.json"},
		{"macOS is ~/.config too", "darwin", envOf(), "/home/u/.config/cryosparc-tools/auth.json"},
		{"XDG_CONFIG_HOME", "linux", envOf("XDG_CONFIG_HOME", "/xdg"), "/xdg/cryosparc-tools/auth.json"},
		{"XDG_CONFIG_HOME on macOS", "darwin", envOf("XDG_CONFIG_HOME", "/xdg"), "/xdg/cryosparc-tools/auth.json"},
		{"blank XDG_CONFIG_HOME", "linux", envOf("XDG_CONFIG_HOME", "  "), "/home/u/.config/cryosparc-tools/auth.json"},
		{"relative XDG_CONFIG_HOME used as given", "linux", envOf("XDG_CONFIG_HOME", "rel"), "rel/cryosparc-tools/auth.json"},
		{"CRYOSPARC_AUTH_FILE wins", "linux", envOf("XDG_CONFIG_HOME", "/xdg", "CRYOSPARC_AUTH_FILE", "/f.json"), "/f.json"},
		{"windows APPDATA", "windows", envOf("APPDATA", "/appdata", "XDG_CONFIG_HOME", "/xdg"), filepath.Join("/appdata", "cryosparc-tools", "auth.json")},
		{"windows without APPDATA", "windows", envOf(), filepath.Join("/home/u", "AppData", "Roaming", "cryosparc-tools", "auth.json")},
	}
	for _, tt := range tests {
		if got := DefaultPath(tt.goos, tt.env, "/home/u"); got != tt.want {
			t.Errorf("%s: DefaultPath = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseProblems(t *testing.T) {
	const sess = `{"token": {"access_token": "SECRET", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}`
	tests := []struct {
		name, file, want string
		syntax           bool
		valid            int // sessions still served
	}{
		{"not JSON", `{"u": `, "unexpected end", true, 0},
		{"trailing comma", `{"u": {},}`, "expected a string key", true, 0},
		{"top level array", `[]`, "not a JSON object", true, 0},
		{"blank", "  \n", "empty or blank", true, 0},
		{"invalid UTF-8", "{\"u\xff\": {}}", "UTF-8", true, 0},
		{"lone surrogate", `{"\ud800": {}}`, "surrogate", true, 0},
		{"control character", "{\"a\tb\": {}}", "control character", true, 0},
		{"too deep", `{"u": {"e": {"x": ` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}}`, "nested too deeply", true, 0},
		{"instance not an object", `{"bad": [], "u": {"e": ` + sess + `}}`, `instance "bad"`, false, 1},
		{"naive expiry", `{"u": {"e": {"token": {"access_token": "SECRET", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00"}, "f": ` + sess + `}}`, `session "e" of instance "u": expires`, false, 1},
		{"token_type", `{"u": {"e": {"token": {"access_token": "SECRET", "token_type": "mac"}, "expires": "2099-01-01T00:00:00Z"}}}`, "token_type", false, 0},
		{"no token", `{"u": {"e": {"expires": "2099-01-01T00:00:00Z"}}}`, `no "token"`, false, 0},
		{"token not a string", `{"u": {"e": {"token": {"access_token": 5, "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`, "not a string", false, 0},
		{"earlier invalid duplicate still counts", `{"u": {"e": 5, "e": ` + sess + `}}`, "not an object", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.file), fixedNow)
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error = %v, want *InvalidError", err)
			}
			if inv.Syntax() != tt.syntax {
				t.Errorf("Syntax() = %v, want %v", inv.Syntax(), tt.syntax)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks a token: %q", err)
			}
			if s.Len() != tt.valid {
				t.Errorf("valid part holds %d sessions, want %d", s.Len(), tt.valid)
			}
		})
	}
}

func TestProblemPosition(t *testing.T) {
	_, err := Parse([]byte("{\n  \"u\": {\n    \"e\": 5\n  }\n}"), fixedNow)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Problems[0].Line != 3 || inv.Problems[0].Column != 10 {
		t.Fatalf("problem = %+v, want line 3 column 10", inv)
	}
}

func TestExpiryString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2025-01-31T12:00:00Z", "2025-01-31T12:00:00Z"},
		{"2025-01-31T12:00:00.5+01:00", "2025-01-31T12:00:00.500000+01:00"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
		{"1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"},
		{"2024-02-29T00:00:00-00:30", "2024-02-29T00:00:00-00:30"},
	}
	for _, tt := range tests {
		e := mustExpiry(t, tt.in)
		if got := e.String(); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := ExpiryFromTime(e.Time()).String(); got != tt.want {
			t.Errorf("ExpiryFromTime(Time()) of %q = %q", tt.in, got)
		}
	}
	e := mustExpiry(t, "2025-01-31T12:00:00+05:30")
	if !e.Time().Equal(time.Date(2025, 1, 31, 6, 30, 0, 0, time.UTC)) {
		t.Errorf("Time() = %v", e.Time())
	}
	if e.Live(time.Date(2025, 1, 31, 6, 30, 0, 0, time.UTC)) || !e.Live(time.Date(2025, 1, 31, 6, 29, 59, 999999000, time.UTC)) {
		t.Error("Live must be true strictly before the expiry only")
	}
}
