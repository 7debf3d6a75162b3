package helper

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// withEnv sets the helper's environment.
func withEnv(h *Commands, env map[string]string) *Commands {
	h.Env = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return h
}

// withIO gives h the streams in and out (its ErrOut kept), as the command
// line gives those of a run, and returns it.
func withIO(h *Commands, in io.Reader, out io.Writer) *Commands {
	h.IO.In, h.IO.Out = in, out
	return h
}

func TestSelect(t *testing.T) {
	tests := []struct {
		env        map[string]string
		url, email string
		want       Selection
		bad        bool
	}{
		{nil, "", "", Selection{}, false},
		{nil, "cs.example.com", "", Selection{URL: "http://cs.example.com"}, false},
		{map[string]string{"CRYOSPARC_EMAIL": "bo@x"}, "", "", Selection{Email: "bo@x", EmailFrom: EnvEmail}, false},
		{map[string]string{"CRYOSPARC_EMAIL": "bo@x"}, "", "ali@x", Selection{Email: "ali@x"}, false},
		{map[string]string{"CRYOSPARC_BASE_URL": "https://a"}, "", "", Selection{URL: "https://a", URLFrom: EnvBaseURL}, false},
		{map[string]string{"CRYOSPARC_BASE_URL": "a:39000"}, "", "", Selection{URL: "http://a:39000", URLFrom: EnvBaseURL}, false},
		{map[string]string{"CRYOSPARC_BASE_URL": "https://a"}, "https://b", "", Selection{URL: "https://b"}, false},
		{map[string]string{"CRYOSPARC_MASTER_HOSTNAME": "gpu1"}, "", "", Selection{URL: "http://gpu1:61000", URLFrom: EnvHost + "/" + EnvPort}, false},
		{map[string]string{"CRYOSPARC_BASE_PORT": " 39000"}, "", "", Selection{URL: "http://localhost:39000", URLFrom: EnvHost + "/" + EnvPort}, false},
		// Blank counts as unset, as in Python.
		{map[string]string{"CRYOSPARC_BASE_URL": "", "CRYOSPARC_EMAIL": ""}, "", "", Selection{}, false},
		// The command's own URL wins over the host/port variables.
		{map[string]string{"CRYOSPARC_MASTER_HOSTNAME": "gpu1"}, "https://b", "", Selection{URL: "https://b"}, false},
		{map[string]string{"CRYOSPARC_BASE_URL": "https://a", "CRYOSPARC_BASE_PORT": "1"}, "", "", Selection{}, true},
		{map[string]string{"CRYOSPARC_BASE_PORT": "abc"}, "", "", Selection{}, true},
		{map[string]string{"CRYOSPARC_BASE_URL": "https://alice:secret@a"}, "", "", Selection{}, true},
	}
	for _, tt := range tests {
		h, _ := newHelper(t, "")
		got, err := withEnv(h, tt.env).Select(tt.url, tt.email)
		if tt.bad {
			if !errors.Is(err, errkind.BadInput) {
				t.Errorf("%v %q %q: %v, want bad input", tt.env, tt.url, tt.email, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%v: the error shows the password: %v", tt.env, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v %q %q: %+v, %v; want %+v", tt.env, tt.url, tt.email, got, err, tt.want)
		}
	}
}

// TestTokenUsesEnvironment: the job's environment that makes CryoSPARC()
// use bob's session makes token print bob's token, never ali's.
func TestTokenUsesEnvironment(t *testing.T) {
	tests := []struct {
		env  map[string]string
		q    TokenQuery
		want string
	}{
		{nil, TokenQuery{URL: "https://cryosparc.example.com"}, "ali-token"},
		{map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}, TokenQuery{URL: "https://cryosparc.example.com"}, "bo-token"},
		{map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}, TokenQuery{}, "bo-token"},
		{map[string]string{"CRYOSPARC_BASE_URL": "lab:39000"}, TokenQuery{}, "lab-token"},
		{map[string]string{"CRYOSPARC_MASTER_HOSTNAME": "lab", "CRYOSPARC_BASE_PORT": "39000"}, TokenQuery{}, "lab-token"},
		{map[string]string{"CRYOSPARC_BASE_URL": "lab:39000"}, TokenQuery{URL: "https://cryosparc.example.com", Header: true}, "Authorization: Bearer ali-token"},
	}
	for _, tt := range tests {
		h, _ := newHelper(t, startFile)
		var out bytes.Buffer
		if err := withIO(withEnv(h, tt.env), nil, &out).Token(tt.q); err != nil || out.String() != tt.want+"\n" {
			t.Errorf("%v %+v: %q, %v; want %q", tt.env, tt.q, out.String(), err, tt.want)
		}
	}
}

// TestNotFoundMessages: a miss says what was looked up, where it came
// from, and the way forward.
func TestNotFoundMessages(t *testing.T) {
	tests := []struct {
		name    string
		content string
		env     map[string]string
		q       TokenQuery
		want    []string
		notWant []string
	}{
		{"unknown email on a known instance names the emails there", startFile, nil,
			TokenQuery{URL: "https://cryosparc.example.com", Email: "zed@example.com"},
			[]string{"ali@example.com, bo@example.com only", "login --url https://cryosparc.example.com --email zed@example.com"}, []string{"did you mean"}},
		{"missing file", "", nil, TokenQuery{URL: "https://a"},
			[]string{"there is no session file at", "login --url https://a"}, []string{"holds no session"}},
		{"the variable is named", startFile, map[string]string{"CRYOSPARC_BASE_URL": "https://elsewhere.example.com"}, TokenQuery{},
			[]string{"https://elsewhere.example.com (from $CRYOSPARC_BASE_URL)", "login --url https://elsewhere.example.com"}, nil},
		{"email from the environment", startFile, map[string]string{"CRYOSPARC_EMAIL": "zed@example.com"}, TokenQuery{},
			[]string{"zed@example.com (from $CRYOSPARC_EMAIL)"}, nil},
		{"browser URL", startFile, nil, TokenQuery{URL: "https://cryosparc.example.com/browse/P1-W1-J3"},
			[]string{"did you mean https://cryosparc.example.com?"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHelper(t, tt.content)
			err := withIO(withEnv(h, tt.env), nil, &bytes.Buffer{}).Token(tt.q)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("%v, want ErrNotFound", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not hold %q", err, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("%q holds %q", err, w)
				}
			}
			if tt.content == "" {
				if _, err := os.Stat(h.Path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a miss created the file: %v", err)
				}
			}
		})
	}
}

// TestSayChosen: on a terminal, a command that chose among several
// sessions says which; named sessions and git's requests say nothing.
func TestSayChosen(t *testing.T) {
	for _, tt := range []struct {
		q    TokenQuery
		says bool
	}{
		{TokenQuery{}, true},
		{TokenQuery{URL: "https://cryosparc.example.com"}, true},
		{TokenQuery{URL: "http://lab:39000"}, false}, // one session there
		{TokenQuery{URL: "https://cryosparc.example.com", Email: "bo@example.com"}, false},
	} {
		h, stderr := newHelper(t, startFile)
		h.IO.ErrTTY = true
		if err := h.Token(tt.q); err != nil {
			t.Fatal(err)
		}
		if said := strings.Contains(stderr.String(), "using the session of"); said != tt.says {
			t.Errorf("%+v: said %v (%q), want %v", tt.q, said, stderr, tt.says)
		}
	}
}

func TestRelativeFarAhead(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{now.Add(14 * 24 * time.Hour), "in 14 days"},
		{now.Add(-time.Second), "expired"},
		{now, "expired"},
		{now.Add(90 * time.Minute), "in 90 min"},
		{now.Add(3*time.Hour + 10*time.Minute), "in 3 h"},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "in 29123"},
	}
	for _, tt := range tests {
		if got := relative(tt.t, now); !strings.HasPrefix(got, tt.want) || strings.Contains(got, "-") {
			t.Errorf("relative(%v) = %q, want %q…", tt.t, got, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	h, _ := newHelper(t, startFile)
	var out bytes.Buffer
	if err := withIO(h, nil, &out).List(ListQuery{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "INSTANCE") || !strings.HasSuffix(lines[0], "EXPIRES") {
		t.Fatalf("list =\n%s", out.String())
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
	if !strings.Contains(lines[1], "(in ") {
		t.Errorf("expiry not shown as status shows it: %q", lines[1])
	}
	// Filters: flags, else the environment.
	for _, tt := range []struct {
		env  map[string]string
		q    ListQuery
		want int
	}{
		{nil, ListQuery{URL: "https://cryosparc.example.com"}, 2},
		{nil, ListQuery{Email: "ali@example.com"}, 2},
		{map[string]string{"CRYOSPARC_BASE_URL": "lab:39000"}, ListQuery{}, 1},
		{map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}, ListQuery{}, 1},
		{nil, ListQuery{URL: "https://nowhere"}, 0},
	} {
		h, _ := newHelper(t, startFile)
		var out bytes.Buffer
		if err := withIO(withEnv(h, tt.env), nil, &out).List(ListQuery{URL: tt.q.URL, Email: tt.q.Email, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var rows []Listed
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != tt.want {
			t.Errorf("%v %+v: %d rows (%v), want %d", tt.env, tt.q, len(rows), err, tt.want)
		}
	}
}

// TestLogoutErasesOnlyTheSelection is the issue's case: with
// CRYOSPARC_BASE_URL set, logout --email erases that instance's session
// only, never the email's sessions everywhere.
func TestLogoutErasesOnlyTheSelection(t *testing.T) {
	h, _ := newHelper(t, startFile)
	withEnv(h, map[string]string{"CRYOSPARC_BASE_URL": "http://lab:39000"})
	var out bytes.Buffer
	if err := withIO(h, nil, &out).Logout(LogoutQuery{Email: "ali@example.com"}); err != nil {
		t.Fatal(err)
	}
	s, _ := store.Load(h.Path, nil)
	var left []string
	for _, sess := range s.All() {
		left = append(left, sess.Token)
	}
	if strings.Join(left, " ") != "ali-token bo-token" {
		t.Errorf("left %q", left)
	}
	if !strings.Contains(out.String(), "ali@example.com at http://lab:39000") {
		t.Errorf("logout does not say what it erased: %q", out.String())
	}
	// A missing file: nothing created, not even a lock.
	h2, _ := newHelper(t, "")
	if err := withIO(h2, nil, &out).Logout(LogoutQuery{All: true, Yes: true}); err != nil {
		t.Fatal(err)
	}
	if err := withIO(h2, nil, &out).Logout(LogoutQuery{URL: "https://a"}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(strings.TrimSuffix(h2.Path, "auth.json")); len(entries) != 0 {
		t.Errorf("logout on a missing file created %v", entries)
	}
}

func TestLogin(t *testing.T) {
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "pw", "Ali")
	h, _ := newHelper(t, "")
	h.Options.Now = time.Now
	var out bytes.Buffer
	until := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	if err := withIO(h, nil, &out).Login(LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "pw", Until: until}); err != nil {
		t.Fatal(err)
	}
	sess, ok, err := store.Lookup(h.Path, nil, cs.URL, "ali@example.com")
	if err != nil || !ok || !sess.Expires.Time().Equal(until) {
		t.Errorf("stored %+v %v %v, want expiry %v", sess, ok, err, until)
	}
	// Renewal: nothing to do while valid for longer.
	done, err := withIO(h, nil, &out).Renewed(Selection{URL: cs.URL, Email: "ali@example.com"}, 3*24*time.Hour)
	if !done || err != nil {
		t.Errorf("Renewed = %v, %v; want nothing to do", done, err)
	}
	if done, _ := withIO(h, nil, &out).Renewed(Selection{URL: cs.URL, Email: "ali@example.com"}, 31*24*time.Hour); done {
		t.Errorf("a session due within 31 days was not renewed")
	}
	for _, tt := range []struct {
		name string
		q    LoginQuery
		kind errkind.Kind
		in   string
	}{
		{"more than a year", LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "pw", Until: time.Now().Add(400 * 24 * time.Hour)}, errkind.BadInput, "one year"},
		{"in the past", LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "pw", Until: time.Now().Add(-time.Hour)}, errkind.BadInput, "future"},
		{"wrong password", LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "nope"}, errkind.Login, ""},
		{"browser URL", LoginQuery{URL: cs.URL + "/browse/P1-W1-J3", Email: "ali@example.com", Password: "pw"}, errkind.None, "--url " + cs.URL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(h.Path)
			err := h.Login(tt.q)
			if err == nil || tt.kind != errkind.None && !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.in) {
				t.Errorf("%v, want a %v error holding %q", err, tt.kind, tt.in)
			}
			if after, _ := os.ReadFile(h.Path); !bytes.Equal(before, after) {
				t.Errorf("a failed login changed the file")
			}
		})
	}
	// A token the protocol could never give back is not stored.
	cs.TokenFor = func(string) string { return strings.Repeat("t", 70000) }
	before, _ := os.ReadFile(h.Path)
	if err := h.Login(LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "pw"}); err == nil {
		t.Errorf("a 70,000-byte token was stored")
	}
	if after, _ := os.ReadFile(h.Path); !bytes.Equal(before, after) {
		t.Errorf("the file changed")
	}
}

func TestDoctorHints(t *testing.T) {
	h, _ := newHelper(t, "this is not json")
	var out bytes.Buffer
	err := withIO(h, nil, &out).Doctor(DoctorQuery{})
	if !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), "doctor --fix --force") {
		t.Errorf("doctor on a non-JSON file: %v; want the --fix --force line", err)
	}
	err = withIO(h, nil, &out).Doctor(DoctorQuery{Fix: true})
	if !errors.Is(err, store.ErrNotRepaired) || !strings.Contains(err.Error(), "--fix --force") {
		t.Errorf("doctor --fix on a non-JSON file: %v; want ErrNotRepaired with the --fix --force line", err)
	}
}

// TestStatusAsksAtOnce: 20 instances that accept connections and never
// answer are all asked at the same time, so that they cost one timeout,
// not twenty: the connections in flight are counted, nothing is timed.
func TestStatusAsksAtOnce(t *testing.T) {
	const n = 20
	var (
		mu              sync.Mutex
		inFlight, peak  int
		content         strings.Builder
		allIn           = make(chan struct{})
		closeAllInOnce  sync.Once
		releaseAll      = make(chan struct{})
		releaseAllClose sync.Once
	)
	defer releaseAllClose.Do(func() { close(releaseAll) })
	content.WriteString("{")
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				inFlight++
				peak = max(peak, inFlight)
				if peak == n {
					closeAllInOnce.Do(func() { close(allIn) })
				}
				mu.Unlock()
				go func() {
					<-releaseAll // never answer until the test is done
					c.Close()
				}()
			}
		}()
		if i > 0 {
			content.WriteString(",")
		}
		content.WriteString(`"http://` + l.Addr().String() + `": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}`)
	}
	content.WriteString("}")
	h, _ := newHelper(t, content.String())
	h.Options.Now = time.Now
	done := make(chan error, 1)
	go func() { done <- h.Status(StatusQuery{Timeout: time.Minute}) }()
	select {
	case <-allIn:
	case err := <-done:
		t.Fatalf("status ended before every instance was asked: %v", err)
	case <-time.After(50 * time.Second):
		t.Fatalf("only %d of %d instances were asked at once", peak, n)
	}
	releaseAllClose.Do(func() { close(releaseAll) }) // the servers hang up
	if err := <-done; !errors.Is(err, ErrUnchecked) || !errors.Is(err, errkind.Unreachable) {
		t.Errorf("status of unreachable instances: %v, want ErrUnchecked (exit 6)", err)
	}
}

// TestDoctorCountsBackups: two repairs in the same second keep two
// backups, and doctor says how many there are.
func TestDoctorCountsBackups(t *testing.T) {
	const bad = `{"https://a": {"x@y": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01"}}}`
	h, _ := newHelper(t, bad)
	var out bytes.Buffer
	if err := withIO(h, nil, &out).Doctor(DoctorQuery{Fix: true}); err != nil {
		t.Fatalf("first repair: %v", err)
	}
	os.WriteFile(h.Path, []byte(bad), 0o600)
	out.Reset()
	if err := withIO(h, nil, &out).Doctor(DoctorQuery{Fix: true}); err != nil {
		t.Fatalf("second repair in the same second: %v", err)
	}
	if !strings.Contains(out.String(), "2 backup(s)") {
		t.Errorf("doctor does not count the backups:\n%s", out.String())
	}
}

// TestLogoutSkipsExpired: an expired session that comes first is not the
// one the rule selects; logout erases the live one token would print.
func TestLogoutSkipsExpired(t *testing.T) {
	const content = `{"https://a": {"ali@x": {"token": {"access_token": "old", "token_type": "bearer"}, "expires": "2020-01-01T00:00:00Z"},
 "bob@x": {"token": {"access_token": "bob-a", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}},
 "https://b": {"ali@x": {"token": {"access_token": "ali-b", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	for _, tt := range []struct {
		env  map[string]string
		q    LogoutQuery
		left string
	}{
		{map[string]string{"CRYOSPARC_EMAIL": "ali@x"}, LogoutQuery{}, "bob-a"},
		{nil, LogoutQuery{URL: "https://a"}, "ali-b"},
	} {
		h, _ := newHelper(t, content)
		var token bytes.Buffer
		withIO(withEnv(h, tt.env), nil, &token).Token(TokenQuery{URL: tt.q.URL})
		var out bytes.Buffer
		if err := withIO(h, nil, &out).Logout(tt.q); err != nil {
			t.Fatal(err)
		}
		s, _ := store.Load(h.Path, nil)
		var left []string
		for _, sess := range s.All() {
			left = append(left, sess.Token)
			if sess.Token+"\n" == token.String() {
				t.Errorf("%v %+v: the session token printed (%s) is still there", tt.env, tt.q, sess.Token)
			}
		}
		if strings.Join(left, " ") != tt.left {
			t.Errorf("%v %+v: left %q, want %q (%s)", tt.env, tt.q, left, tt.left, out.String())
		}
	}
}

// TestControlCharacters: a carriage return anywhere in a token is refused
// on the way in (a reader in Python's text mode would split the line
// there); a server's token with an escape sequence is not stored; a stored
// one reaches a terminal escaped.
func TestControlCharacters(t *testing.T) {
	h, _ := newHelper(t, "")
	err := withIO(h, strings.NewReader("url=https://a\nemail=a@x\naccess_token=IN\rNER\n"), nil).Store()
	if !errors.Is(err, errkind.BadInput) {
		t.Errorf("a token with an inner carriage return: %v, want bad input", err)
	}
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "pw", "Ali")
	cs.TokenFor = func(string) string { return "tok\x1b]2;owned\x07" }
	h.Options.Now = time.Now
	if err := h.Login(LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "pw"}); !errors.Is(err, errkind.Unreachable) {
		t.Errorf("a token with an escape sequence from the server: %v, want refused (exit 6)", err)
	}
	if _, err := os.Stat(h.Path); err == nil {
		t.Errorf("it was stored")
	}
	// A file edited by hand: escaped on a terminal, as is elsewhere.
	h2, _ := newHelper(t, `{"https://a": {"a@x": {"token": {"access_token": "t\u001b[2Jx", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`)
	for _, terminal := range []bool{true, false} {
		h2.IO.OutTTY = terminal
		var out bytes.Buffer
		if err := withIO(h2, nil, &out).Token(TokenQuery{}); err != nil {
			t.Fatal(err)
		}
		if raw := strings.Contains(out.String(), "\x1b"); raw == terminal {
			t.Errorf("terminal %v: token printed %q", terminal, out.String())
		}
	}
}

func TestDidYouMeanSaysWhy(t *testing.T) {
	for _, tt := range []struct{ url, why string }{
		{"http://cryosparc.example.com", "other scheme"},
		{"https://cryosparc.example.com/browse/P1-W2-J3", "without the page path"},
	} {
		h, _ := newHelper(t, startFile)
		err := h.Token(TokenQuery{URL: tt.url})
		if err == nil || !strings.Contains(err.Error(), "did you mean https://cryosparc.example.com?") || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%s: %v; want the stored URL and %q", tt.url, err, tt.why)
		}
	}
	h, _ := newHelper(t, startFile)
	err := h.Token(TokenQuery{URL: "https://cryosparc.example.com", Email: "ali@example.com", MinTTL: 100 * MaxLifetime})
	if err == nil || !strings.Contains(err.Error(), "longer than any session can last") {
		t.Errorf("--min-ttl beyond a year: %v", err)
	}
}

func TestPortAsPythonReadsIt(t *testing.T) {
	for port, want := range map[string]string{"61_000": "http://localhost:61000", "+39000": "http://localhost:39000", " 8080 ": "http://localhost:8080"} {
		h, _ := newHelper(t, "")
		sel, err := withEnv(h, map[string]string{"CRYOSPARC_BASE_PORT": port}).Select("", "")
		if err != nil || sel.URL != want {
			t.Errorf("CRYOSPARC_BASE_PORT=%q: %q, %v; want %s", port, sel.URL, err, want)
		}
	}
	for _, port := range []string{"_61000", "61__000", "6 1000"} {
		h, _ := newHelper(t, "")
		if _, err := withEnv(h, map[string]string{"CRYOSPARC_BASE_PORT": port}).Select("", ""); err == nil {
			t.Errorf("CRYOSPARC_BASE_PORT=%q accepted; Python's int() refuses it", port)
		}
	}
}

// TestStatusOtherUser: a stored token that the server's users.me says is
// another user's is flagged with both emails, and status fails (exit 4);
// a token of the stored user (letter case aside) is valid.
func TestStatusOtherUser(t *testing.T) {
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "pw", "Ali")
	cs.AddUser("bob@example.com", "pw", "Bob")
	tests := []struct {
		name, stored, owner string
		want                string // in the row
		err                 error
	}{
		{"the stored user's", "bob@example.com", "bob@example.com", "valid", nil},
		{"letter case aside", "Bob@Example.com", "bob@example.com", "valid", nil},
		{"another user's", "bob@example.com", "ali@example.com", "valid for ali@example.com, stored as bob@example.com", ErrNotValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "auth.json")
			h := &Commands{Path: file}
			tok := cs.Issue(tt.owner)
			if err := withIO(h, strings.NewReader("url="+cs.URL+"\nemail="+tt.stored+"\naccess_token="+tok+"\nexpires_in=86400\n"), nil).Store(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := withIO(h, nil, &out).Status(StatusQuery{Timeout: time.Minute})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || !strings.Contains(out.String(), tt.want) {
				t.Errorf("Status: %v, %q; want %v and a row with %q", err, out.String(), tt.err, tt.want)
			}
			if tt.err != nil && errkind.Of(err) != errkind.Login {
				t.Errorf("kind %v, want Login (exit 4)", errkind.Of(err))
			}
			out.Reset()
			withIO(h, nil, &out).Status(StatusQuery{Timeout: time.Minute, JSON: true})
			if tt.err != nil && !strings.Contains(out.String(), `"status": "other-user"`) {
				t.Errorf("JSON: %s", out.String())
			}
		})
	}
}

// TestStatusSecondsLeftFarAhead: seconds_left is exact for any expiry the
// file may hold, year 9999 included (a Duration stops at 292 years).
func TestStatusSecondsLeftFarAhead(t *testing.T) {
	h, _ := newHelper(t, `{"http://127.0.0.1:1": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "9999-12-31T23:59:59Z"}}}`)
	var out bytes.Buffer
	withIO(h, nil, &out).Status(StatusQuery{JSON: true, Timeout: 5 * time.Second}) // unreachable: exit 6, the row is still printed
	var rows []Checked
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("status --json: %v %q", err, out.String())
	}
	want := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix() - now.Unix()
	if rows[0].SecondsLeft != want {
		t.Errorf("seconds_left = %d, want %d", rows[0].SecondsLeft, want)
	}
}

// TestNilErrOutWritesNothing: IOStreams' nil ErrOut discards what a
// command says there, even on a terminal (ErrTTY), where the notices are
// made: no command panics for want of a stream.
func TestNilErrOutWritesNothing(t *testing.T) {
	h, _ := newHelper(t, startFile)
	h.IO = IOStreams{ErrTTY: true, InTTY: true}
	if err := h.Token(TokenQuery{}); err != nil { // picks among several: says which
		t.Fatal(err)
	}
	if err := h.Logout(LogoutQuery{URL: "https://nowhere.example.com", Email: "x@example.com"}); err != nil {
		t.Fatal(err) // nothing erased: says so
	}
	if err := h.Get(); err != nil { // waits for key=value lines on a terminal: says so
		t.Fatal(err)
	}
}
