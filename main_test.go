package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

func runCLI(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = run(append([]string{helper.Name}, args...), strings.NewReader(stdin), &out, &errb, lookup, time.Now)
	return code, out.String(), errb.String()
}

// TestExitCodes: each case runs alone on files of its own (FILE holds one
// session of a@x at https://x, INVALID an entry cryosparc-tools rejects), so
// that any one of them can be run by itself.
func TestExitCodes(t *testing.T) {
	const file, invalid = "FILE", "INVALID"
	tests := []struct {
		name     string
		stdin    string
		args     []string
		want     int
		inStdout string
		inStderr string
	}{
		{"store", "url=https://x\nemail=a@x\naccess_token=tok\n", []string{"--file", file, "store"}, 0, "", ""},
		{"get", "url=https://x\n", []string{"--file", file, "get"}, 0, "access_token=tok\n", ""},
		{"get nothing found", "url=https://y\n", []string{"--file", file, "get"}, 1, "", "no session found for https://y"},
		{"bad input", "url=https://y\n\x00\n", []string{"--file", file, "get"}, 2, "", "NUL"},
		{"arguments refused", "", []string{"--file", file, "get", "access_token=secret"}, 2, "", "takes no arguments"},
		{"unknown command", "", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"a token in place of a command is not echoed", "", []string{"secret0123456789abcdef"}, 2, "", "unknown command;"},
		{"unknown flag", "", []string{"get", "--nope"}, 2, "", "flag provided but not defined"},
		{"no command", "", nil, 2, "", "no command given"},
		{"help on an unknown topic", "", []string{"help", "frobnicate"}, 2, "", "No help topic"},
		{"invalid file refuses store", "url=https://x\nemail=b@x\naccess_token=tok\n", []string{"--file", invalid, "store"}, 3, "", "doctor"},
		{"invalid file still serves get", "url=https://x\n", []string{"--file", invalid, "get"}, 1, "", "warning"},
		{"erase nothing", "url=https://zzz\n", []string{"--file", file, "erase"}, 0, "", ""},
		{"erase", "url=https://x\nemail=a@x\n", []string{"--file", file, "erase"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := map[string]string{file: filepath.Join(dir, "auth.json"), invalid: filepath.Join(dir, "invalid.json")}
			os.WriteFile(paths[file], []byte(`{"https://x": {"a@x": {"token": {"access_token": "tok", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`), 0o600)
			os.WriteFile(paths[invalid], []byte(`{"https://x": {"a": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01"}}}`), 0o600)
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if p, ok := paths[a]; ok {
					args[i] = p
				}
			}
			code, stdout, stderr := runCLI(t, tt.stdin, nil, args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.want, stderr)
			}
			if !strings.Contains(stdout, tt.inStdout) || (tt.inStdout == "" && stdout != "") {
				t.Errorf("stdout %q, want %q", stdout, tt.inStdout)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not hold %q", stderr, tt.inStderr)
			}
			for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
				if line != "" && !strings.HasPrefix(line, helper.Name+": ") {
					t.Errorf("stderr line %q lacks the %q prefix", line, helper.Name+": ")
				}
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("an argument was echoed: %q", stderr)
			}
		})
	}
}

// TestEraseThenGet: a session erased is no longer served.
func TestEraseThenGet(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.json")
	for _, step := range []struct {
		stdin, cmd string
		code       int
	}{
		{"url=https://x\nemail=a@x\naccess_token=tok\n", "store", 0},
		{"url=https://x\n", "get", 0},
		{"url=https://x\nemail=a@x\n", "erase", 0},
		{"url=https://x\n", "get", 1},
	} {
		if code, _, stderr := runCLI(t, step.stdin, nil, "--file", file, step.cmd); code != step.code {
			t.Fatalf("%s: exit %d, want %d (%s)", step.cmd, code, step.code, stderr)
		}
	}
}

func TestFileFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CRYOSPARC_AUTH_FILE": filepath.Join(dir, "env.json"), "XDG_CONFIG_HOME": filepath.Join(dir, "xdg")}
	if code, _, stderr := runCLI(t, "url=https://x\nemail=a\naccess_token=t\n", env, "store"); code != 0 {
		t.Fatalf("store: %d %s", code, stderr)
	}
	if _, err := os.Stat(env["CRYOSPARC_AUTH_FILE"]); err != nil {
		t.Errorf("CRYOSPARC_AUTH_FILE not used: %v", err)
	}
	delete(env, "CRYOSPARC_AUTH_FILE")
	if code, _, stderr := runCLI(t, "url=https://x\nemail=a\naccess_token=t\n", env, "store"); code != 0 {
		t.Fatalf("store: %d %s", code, stderr)
	}
	want := filepath.Join(dir, "xdg", "cryosparc-tools", "auth.json")
	if runtime.GOOS == "windows" {
		t.Skip("APPDATA on Windows")
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("XDG_CONFIG_HOME not used: %v", err)
	}
	// --file wins over the environment.
	flagFile := filepath.Join(dir, "flag.json")
	env["CRYOSPARC_AUTH_FILE"] = filepath.Join(dir, "unused.json")
	runCLI(t, "url=https://x\nemail=a\naccess_token=t\n", env, "--file", flagFile, "store")
	if _, err := os.Stat(flagFile); err != nil {
		t.Errorf("--file not used: %v", err)
	}
	if _, err := os.Stat(env["CRYOSPARC_AUTH_FILE"]); err == nil {
		t.Errorf("CRYOSPARC_AUTH_FILE used despite --file")
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, "", nil, "--version")
	if code != 0 || !strings.Contains(stdout, helper.Name) || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("--version: %d %q", code, stdout)
	}
	for _, args := range [][]string{{"list", "--version"}, {"get", "--version"}, {"login", "--version"}} {
		code, stdout, stderr := runCLI(t, "", nil, args...)
		if code != 0 || !strings.Contains(stdout, runtime.Version()) || stderr != "" {
			t.Errorf("%v: %d %q %q; want the version, as before the command", args, code, stdout, stderr)
		}
	}
	code, stdout, _ = runCLI(t, "", nil, "--help")
	for _, cmd := range []string{"get", "store", "erase", "--file"} {
		if code != 0 || !strings.Contains(stdout, cmd) {
			t.Errorf("--help: %d, %q lacks %q", code, stdout, cmd)
		}
	}
}

// TestMessagesAreSafe: secrets typed into a URL never reach stderr, values
// from the file are escaped on the terminal, and messages stay one bounded
// line.
func TestMessagesAreSafe(t *testing.T) {
	e, file := sampleEnv(t, `{"https://cs.example.com": {"evil\u001b[2J@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`)
	for _, args := range [][]string{
		{"token", "--url", "https://user:SECRET@host/?q=QUERY"},
		{"logout", "--url", "https://user:SECRET@host/?q=QUERY"},
	} {
		r := runWith(t, e, append([]string{"--file", file}, args...)...)
		if r.code != 2 || strings.Contains(r.stderr, "SECRET") || strings.Contains(r.stderr, "QUERY") {
			t.Errorf("%s: exit %d %q", args[0], r.code, r.stderr)
		}
	}
	r := runWith(t, e, "--file", file, "list")
	if r.code != 0 || strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `evil\x1b[2J@x`) {
		t.Errorf("list: exit %d %q; want the escape sequence shown escaped", r.code, r.stdout)
	}
	r = runWith(t, e, "--file", file, "token", "--email", strings.Repeat("e", 70000))
	if r.code != 1 || len(r.stderr) > 1000 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("token with a huge email: exit %d, %d bytes of stderr", r.code, len(r.stderr))
	}
}

// TestEverydayMessages: what a user sees when something is missing.
func TestEverydayMessages(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now,
		store.Session{URL: "https://cs.example.com", Email: "ali@example.com", Token: "tok-ali", Expires: at(now.Add(-2 * time.Hour))},
		store.Session{URL: "https://lab.example.org:39000", Email: "bo@example.com", Token: "tok-bo", Expires: at(now.Add(72 * time.Hour))},
	)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"expired session, get", "url=https://cs.example.com\n", []string{"get"}, 1,
			[]string{"expired", "login --url https://cs.example.com --email ali@example.com"}},
		{"expired session, token", "", []string{"token", "--url", "https://cs.example.com"}, 1,
			[]string{"expired", "log in again"}},
		{"no session: names the file and the stored instances", "url=https://other.example.com\n", []string{"get"}, 1,
			[]string{file, "https://lab.example.org:39000"}},
		{"a URL copied from the browser", "url=https://lab.example.org:39000/browse/P1-W1-J5\n", []string{"get"}, 1,
			[]string{"did you mean https://lab.example.org:39000?"}},
		{"http where the session is https", "", []string{"token", "--url", "http://lab.example.org:39000"}, 1,
			[]string{"did you mean https://lab.example.org:39000?"}},
		{"min-ttl advises a login date", "", []string{"token", "--url", "https://lab.example.org:39000", "--min-ttl", "30d"}, 1,
			[]string{"--expires " + now.Add(31*24*time.Hour).Format("2006-01-02")}},
		{"days accepted", "", []string{"token", "--url", "https://lab.example.org:39000", "--min-ttl", "1d12h"}, 0, nil},
		{"a bad duration names the forms", "", []string{"token", "--min-ttl", "5"}, 2, []string{"30d", "--min-ttl"}},
		{"lock timeout without a unit", "", []string{"--lock-timeout", "5", "list"}, 2, []string{"30d", "--lock-timeout"}},
		{"global flag after the command", "", []string{"list", "--file", file, "--lock-timeout", "1d"}, 0, nil},
		{"unknown flag with two dashes", "", []string{"list", "--nope"}, 2, []string{"--nope", "list --help"}},
		{"typo in a command", "", []string{"gte"}, 2, []string{"did you mean get?"}},
		{"logout says the server still accepts the token", "", []string{"logout", "--email", "bo@example.com"}, 0,
			[]string{"still accepts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e2 := *e
			e2.Stdin = strings.NewReader(tt.stdin)
			args := tt.args
			if tt.args[0] != "list" {
				args = append([]string{"--file", file}, args...)
			}
			r := runWith(t, &e2, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr+r.stdout, w) {
					t.Errorf("output does not say %q:\n%s%s", w, r.stdout, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "tok-") {
				t.Errorf("a token reached stderr: %s", r.stderr)
			}
		})
	}
}

// TestEmptyAndNegativeInput: what a script with an unset variable or a
// slip of the sign passes is bad usage (exit 2, one line saying what),
// never "the first session", "any email", "no limit" or an empty token;
// and the file is left as it was. git's own requests keep working: git
// may store an empty user name and password (TestGitEmptyUsername).
func TestEmptyAndNegativeInput(t *testing.T) {
	const content = `{"https://x.example.com": {"a@x": {"token": {"access_token": "tok-a", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stdin string
		args        []string
		inStderr    string
	}{
		{"token --url ''", "", []string{"token", "--url", ""}, "--url is empty"},
		{"token --url=", "", []string{"token", "--url="}, "--url is empty"},
		{"token --email ''", "", []string{"token", "--email", ""}, "--email is empty"},
		{"list --url ''", "", []string{"list", "--url", ""}, "--url is empty"},
		{"status --email ''", "", []string{"status", "--email", ""}, "--email is empty"},
		{"logout --url ''", "", []string{"logout", "--url", ""}, "--url is empty"},
		{"logout --all --email ''", "", []string{"logout", "--all", "--yes", "--email", ""}, "--email is empty"},
		{"login --url ''", "", []string{"login", "--url", "", "--password-stdin"}, "--url is empty"},
		{"an empty port", "", []string{"token", "--url", "http://x.example.com:"}, "port is empty"},
		{"an empty port in url=", "url=https://x.example.com:\n", []string{"get"}, "port is empty"},
		{"get email=", "url=https://x.example.com\nemail=\n", []string{"get"}, "email= is empty"},
		{"erase email=", "url=https://x.example.com\nemail=\n", []string{"erase"}, "email= is empty"},
		{"store access_token=", "url=https://x.example.com\nemail=b@x\naccess_token=\n", []string{"store"}, "access_token= is empty"},
		{"store email=", "url=https://x.example.com\nemail=\naccess_token=t\n", []string{"store"}, "email= is empty"},
		{"token --min-ttl -1s", "", []string{"token", "--min-ttl", "-1s"}, "negative"},
		{"--lock-timeout -1s", "", []string{"--lock-timeout", "-1s", "list"}, "negative"},
		{"status --timeout -1s", "", []string{"status", "--timeout", "-1s"}, "negative"},
		{"login --renew-within -1h", "", []string{"login", "--renew-within", "-1h", "--url", "https://x.example.com", "--email", "a@x", "--password-stdin"}, "negative"},
		{"login --timeout -1s", "", []string{"login", "--timeout", "-1s", "--url", "https://x.example.com", "--email", "a@x", "--password-stdin"}, "negative"},
		{"a duration that overflows", "", []string{"token", "--min-ttl", "36500d2562047h"}, "100 years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, tt.stdin, append([]string{"--file", file}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.inStderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line saying %q", code, stderr, tt.inStderr)
			}
			if strings.Contains(stdout+stderr, "tok-a") {
				t.Errorf("the first session's token was served: %q", stdout)
			}
			if data, _ := os.ReadFile(file); string(data) != content {
				t.Errorf("the file changed: %s", data)
			}
		})
	}
	// git's empty user name and password still store (t0303's "can store
	// empty username"), and an absent --url still means the first session.
	if _, stderr, code := runBinary(t, "protocol=https\nhost=sso.example.com\nusername=\npassword=\n", "--file", file, "store"); code != 0 {
		t.Errorf("git's empty username and password: exit %d %s", code, stderr)
	}
	if stdout, stderr, code := runBinary(t, "", "--file", file, "token"); code != 0 || stdout != "tok-a\n" {
		t.Errorf("token without --url: exit %d %q %s", code, stdout, stderr)
	}
}
