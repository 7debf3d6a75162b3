package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/cmdline"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// newCryoSPARC starts a stand-in CryoSPARC instance on which the emails the
// tests use log in with password.
func newCryoSPARC(t *testing.T, password string) *testkit.Server {
	cs := testkit.NewServer(t)
	cs.TokenFor = func(email string) string { return "tok-for-" + email }
	for _, email := range []string{"ali@example.com", "a@x", "b@x", "bo@example.com", "env@example.com"} {
		cs.AddUser(email, password, "Test User")
	}
	return cs
}

// fakeTTY answers prompts from a script and records them.
type fakeTTY struct {
	answers map[string]string
	asked   []string
	secret  []string
	closed  int
}

func (f *fakeTTY) Close() error { f.closed++; return nil }

func (f *fakeTTY) Prompt(label string) (string, error) {
	f.asked = append(f.asked, label)
	return f.answers[label], nil
}

func (f *fakeTTY) PromptPassword(label string) (string, error) {
	f.secret = append(f.secret, label)
	return f.answers[label], nil
}

type cliRun struct {
	code           int
	stdout, stderr string
}

// env is what a run gets (its streams, environment, clock, terminal);
// terminal, what prompts: the command line's own, run in process.
type (
	env      = cmdline.Env
	terminal = cmdline.Terminal
)

// run runs the command line in process, as the binary's main does.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool), now func() time.Time) int {
	return cmdline.Run(args, cmdline.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Lookup: lookup, Now: now})
}

func runWith(t *testing.T, e *env, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	e.Stdout, e.Stderr = &out, &errb
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Lookup == nil {
		e.Lookup = func(string) (string, bool) { return "", false }
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.TTY == nil {
		e.TTY = func() (terminal, error) { return nil, errors.New("no terminal") }
	}
	code := cmdline.Run(append([]string{helper.Name}, args...), *e)
	return cliRun{code, out.String(), errb.String()}
}

const sampleFile = `{
    "https://cs.example.com": {
        "ali@example.com": {
            "token": {
                "access_token": "ali-token",
                "token_type": "bearer"
            },
            "expires": "2026-06-01T00:00:00Z"
        },
        "old@example.com": {
            "token": {
                "access_token": "old-token",
                "token_type": "bearer"
            },
            "expires": "2026-01-01T00:00:00Z"
        }
    },
    "http://lab:39000": {
        "bo@example.com": {
            "token": {
                "access_token": "bo-token",
                "token_type": "bearer"
            },
            "expires": "2026-05-20T12:30:00+02:00"
        }
    }
}`

var sampleNow = time.Date(2026, 5, 18, 0, 0, 0, 0, time.UTC)

func sampleEnv(t *testing.T, content string) (*env, string) {
	file := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(file, []byte(content), 0o600)
	return &env{Now: func() time.Time { return sampleNow }}, file
}

func TestToken(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 0, "ali-token\n"},
		{[]string{"--url", "lab:39000"}, 0, "bo-token\n"},
		{[]string{"--email", "bo@example.com"}, 0, "bo-token\n"},
		{[]string{"--url", "https://CS.example.com/", "--email", "ali@example.com"}, 0, "ali-token\n"},
		{[]string{"--email", "old@example.com"}, 1, ""},
		{[]string{"--url", "https://nowhere"}, 1, ""},
		{[]string{"--url", "lab:39000", "--min-ttl", "24h"}, 0, "bo-token\n"},
		{[]string{"--url", "lab:39000", "--min-ttl", "72h"}, 1, ""},
	}
	for _, tt := range tests {
		e, file := sampleEnv(t, sampleFile)
		r := runWith(t, e, append([]string{"--file", file, "token"}, tt.args...)...)
		if r.code != tt.code || r.stdout != tt.out {
			t.Errorf("token %q: exit %d, %q (stderr %q); want %d, %q", tt.args, r.code, r.stdout, r.stderr, tt.code, tt.out)
		}
	}
}

func TestList(t *testing.T) {
	e, file := sampleEnv(t, sampleFile)
	r := runWith(t, e, "--file", file, "list", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	var rows []helper.Listed
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	want := []helper.Listed{
		{URL: "https://cs.example.com", Email: "ali@example.com", Expires: "2026-06-01T00:00:00Z", ExpiresUnix: 1780272000, Expired: false},
		{URL: "https://cs.example.com", Email: "old@example.com", Expires: "2026-01-01T00:00:00Z", ExpiresUnix: 1767225600, Expired: true},
		{URL: "http://lab:39000", Email: "bo@example.com", Expires: "2026-05-20T12:30:00+02:00", ExpiresUnix: 1779273000, Expired: false},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("list --json = %+v\nwant %+v", rows, want)
	}
	r = runWith(t, e, "--file", file, "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "in 14 days") || !strings.Contains(lines[2], "expired") || !strings.Contains(lines[3], "in 2 days") {
		t.Errorf("list =\n%s", r.stdout)
	}
	if strings.Index(lines[1], "ali@example.com") != strings.Index(lines[3], "bo@example.com") {
		t.Errorf("columns not aligned:\n%s", r.stdout)
	}
	for _, out := range []string{r.stdout, runWith(t, e, "--file", file, "list", "--json").stdout} {
		if strings.Contains(out, "-token") {
			t.Errorf("list shows a token:\n%s", out)
		}
	}
	e2, empty := sampleEnv(t, "{}")
	if r := runWith(t, e2, "--file", empty, "list", "--json"); r.stdout != "[]\n" {
		t.Errorf("empty list --json = %q", r.stdout)
	}
}

// twoInstances has ali on two instances and bo on the first.
const twoInstances = `{
    "https://a.example.com": {
        "ali@example.com": {
            "token": {
                "access_token": "ali-a",
                "token_type": "bearer"
            },
            "expires": "2026-06-01T00:00:00Z"
        },
        "bo@example.com": {
            "token": {
                "access_token": "bo-a",
                "token_type": "bearer"
            },
            "expires": "2026-06-01T00:00:00Z"
        }
    },
    "https://b.example.com": {
        "ali@example.com": {
            "token": {
                "access_token": "ali-b",
                "token_type": "bearer"
            },
            "expires": "2026-06-01T00:00:00Z"
        }
    }
}`

func TestLogout(t *testing.T) {
	tests := []struct {
		file string
		env  map[string]string
		args []string
		code int
		left string // tokens of the sessions left, via list
	}{
		{sampleFile, nil, nil, 2, "ali-token old-token bo-token"},
		// --all needs a terminal to ask, or --yes.
		{sampleFile, nil, []string{"--all"}, 2, "ali-token old-token bo-token"},
		{sampleFile, nil, []string{"--yes"}, 2, "ali-token old-token bo-token"},
		// Every write drops expired sessions, as cryosparc-tools does.
		{sampleFile, nil, []string{"--all", "--yes"}, 0, ""},
		{sampleFile, nil, []string{"--url", "https://cs.example.com", "--all", "--yes"}, 0, "bo-token"},
		{sampleFile, nil, []string{"--url", "https://cs.example.com", "--email", "ali@example.com"}, 0, "bo-token"},
		{sampleFile, nil, []string{"--email", "bo@example.com"}, 0, "ali-token"},
		{sampleFile, nil, []string{"--url", "https://nowhere"}, 0, "ali-token old-token bo-token"},
		// The one rule: exactly the session token would use, never more.
		{twoInstances, nil, []string{"--url", "https://a.example.com"}, 0, "bo-a ali-b"},
		{twoInstances, nil, []string{"--email", "ali@example.com"}, 0, "bo-a ali-b"},
		{twoInstances, map[string]string{"CRYOSPARC_BASE_URL": "https://b.example.com"}, []string{"--email", "ali@example.com"}, 0, "ali-a bo-a"},
		{twoInstances, map[string]string{"CRYOSPARC_BASE_URL": "b.example.com"}, []string{"--email", "ali@example.com"}, 0, "ali-a bo-a ali-b"},
		{twoInstances, map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}, []string{"--url", "https://a.example.com"}, 0, "ali-a ali-b"},
		{twoInstances, map[string]string{"CRYOSPARC_BASE_URL": "https://b.example.com"}, nil, 0, "ali-a bo-a"},
		{twoInstances, map[string]string{"CRYOSPARC_BASE_URL": "https://a.example.com", "CRYOSPARC_BASE_PORT": "1"}, []string{"--email", "ali@example.com"}, 2, "ali-a bo-a ali-b"},
		{twoInstances, nil, []string{"--email", "ali@example.com", "--all", "--yes"}, 0, "bo-a"},
	}
	for _, tt := range tests {
		e, file := sampleEnv(t, tt.file)
		e.Lookup = func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		r := runWith(t, e, append([]string{"--file", file, "logout"}, tt.args...)...)
		if r.code != tt.code {
			t.Errorf("%v logout %q: exit %d (%s), want %d", tt.env, tt.args, r.code, r.stderr, tt.code)
		}
		if r.code == 0 && tt.left != strings.Join(strings.Fields(tt.file), " ") && !strings.Contains(r.stdout, "Erased") && !strings.Contains(r.stderr, "nothing erased") {
			t.Errorf("logout %q says neither what it erased nor that it erased nothing: %q %q", tt.args, r.stdout, r.stderr)
		}
		var left []string
		s, _ := store.Load(file, &store.Options{KeepExpired: true})
		for _, sess := range s.All() {
			left = append(left, sess.Token)
		}
		if strings.Join(left, " ") != tt.left {
			t.Errorf("%v logout %q left %q, want %q", tt.env, tt.args, left, tt.left)
		}
	}
}

func TestLogoutAllAsks(t *testing.T) {
	for _, answer := range []string{"y", "n"} {
		e, file := sampleEnv(t, sampleFile)
		tty := &fakeTTY{answers: map[string]string{}}
		e.TTY = func() (terminal, error) { return tty, nil }
		tty.answers = map[string]string{}
		var question string
		e.TTY = func() (terminal, error) {
			return &promptSpy{fakeTTY: tty, answer: answer, seen: &question}, nil
		}
		r := runWith(t, e, "--file", file, "logout", "--all")
		s, _ := store.Load(file, &store.Options{KeepExpired: true})
		if answer == "y" && (r.code != 0 || s.Len() != 0) || answer == "n" && (r.code != 0 || s.Len() != 3 || !strings.Contains(r.stderr, "nothing erased")) {
			t.Errorf("answer %s: exit %d, %d sessions left (%s)", answer, r.code, s.Len(), r.stderr)
		}
		if !strings.Contains(question, "ali@example.com at https://cs.example.com") || !strings.Contains(question, "bo@example.com at http://lab:39000") {
			t.Errorf("the question does not list what it erases: %q", question)
		}
	}
}

// promptSpy answers every prompt with answer and records the question.
type promptSpy struct {
	*fakeTTY
	answer string
	seen   *string
}

func (p *promptSpy) Prompt(label string) (string, error) { *p.seen = label; return p.answer, nil }

func TestDoctor(t *testing.T) {
	// Healthy: exit 0, expired sessions noted.
	e, file := sampleEnv(t, sampleFile)
	r := runWith(t, e, "--file", file, "doctor")
	if r.code != 0 || !strings.Contains(r.stdout, "old@example.com") || !strings.Contains(r.stdout, "expired") {
		t.Errorf("healthy doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Unhealthy: invalid entries with line and column, open permissions.
	broken := strings.Replace(sampleFile, `"expires": "2026-06-01T00:00:00Z"`, `"expires": "2026-06-01"`, 1)
	broken = strings.Replace(broken, `"token_type": "bearer"
            },
            "expires": "2026-05-20`, `"token_type": "mac"
            },
            "expires": "2026-05-20`, 1)
	e, file = sampleEnv(t, broken)
	os.Chmod(file, 0o644)
	r = runWith(t, e, "--file", file, "doctor")
	for _, want := range []string{"line 8, column 24", `"ali@example.com"`, "token_type", "0644", "writes it 0600"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 3 || !strings.Contains(r.stderr, "doctor --fix`") {
		t.Errorf("unhealthy doctor: exit %d, stderr %q", r.code, r.stderr)
	}
	if cmds := commandsToRun(r.stdout + r.stderr); len(cmds) != 1 {
		t.Errorf("a rejected file: doctor says to run %q, want one thing", cmds)
	}
	// Not JSON: one thing to run too, and not "the valid part".
	e, file2 := sampleEnv(t, `{"https://cs.example.com": {]}`)
	os.Chmod(file2, 0o644)
	r2 := runWith(t, e, "--file", file2, "doctor")
	if cmds := commandsToRun(r2.stdout + r2.stderr); r2.code != 3 || len(cmds) != 1 || !strings.Contains(cmds[0], "doctor --fix --force") || strings.Contains(r2.stderr, "valid part") {
		t.Errorf("a file that is not JSON: exit %d, says to run %q (%s)", r2.code, cmds, r2.stderr)
	}
	// Only the permissions wrong: chmod is the one thing.
	e, file3 := sampleEnv(t, sampleFile)
	os.Chmod(file3, 0o644)
	if r3 := runWith(t, e, "--file", file3, "doctor"); !reflect.DeepEqual(commandsToRun(r3.stdout+r3.stderr), []string{"chmod 600 " + file3}) {
		t.Errorf("only the permissions wrong: says to run %q", commandsToRun(r3.stdout+r3.stderr))
	}
	// --fix keeps a backup of the original and leaves only the valid part.
	r = runWith(t, e, "--file", file, "doctor", "--fix")
	if r.code != 0 {
		t.Fatalf("doctor --fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	backups, _ := filepath.Glob(file + ".bak-*")
	if len(backups) != 1 {
		t.Fatalf("backups: %q", backups)
	}
	if data, _ := os.ReadFile(backups[0]); string(data) != broken {
		t.Errorf("backup differs from the original")
	}
	if fi, _ := os.Stat(backups[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %#o", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("fixed file mode %#o", fi.Mode().Perm())
	}
	var rows []helper.Listed
	json.Unmarshal([]byte(runWith(t, e, "--file", file, "list", "--json").stdout), &rows)
	if len(rows) != 0 {
		// ali (invalid), bo (invalid) are gone; old expired at real time too.
		for _, row := range rows {
			if row.Email != "old@example.com" || !row.Expired {
				t.Errorf("after --fix: %+v", rows)
			}
		}
	}
	testkit.ValidForPython(t, file)
	// A second --fix has nothing to do: no new backup.
	runWith(t, e, "--file", file, "doctor", "--fix")
	if b, _ := filepath.Glob(file + ".bak-*"); len(b) != 1 {
		t.Errorf("a second --fix made another backup: %q", b)
	}
}

// TestTokenHeader: --header prints a header line for curl -H @-.
func TestTokenHeader(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now, store.Session{URL: "https://cs.example.com", Email: "a@x", Token: "tok-a", Expires: at(now.Add(time.Hour))})
	r := runWith(t, e, "--file", file, "token", "--header", "--url", "https://cs.example.com")
	if r.code != 0 || r.stdout != "Authorization: Bearer tok-a\n" {
		t.Errorf("token --header: exit %d %q", r.code, r.stdout)
	}
}

// commandsToRun lists the distinct commands a message tells to run: in
// backquotes, or after "run: ".
func commandsToRun(msg string) []string {
	var cmds []string
	for _, m := range regexp.MustCompile("`("+helper.Name+" [^`]*)`|run: (chmod [^\n;]*)").FindAllStringSubmatch(msg, -1) {
		c := m[1] + m[2]
		if !slices.Contains(cmds, c) {
			cmds = append(cmds, c)
		}
	}
	return cmds
}
