package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// gitEnv is a throw-away git setup whose only credential helper is the
// binary on a session file of its own.
type gitEnv struct {
	t    *testing.T
	dir  string
	file string
	env  []string
}

func newGitEnv(t *testing.T, extraConfig ...string) *gitEnv {
	t.Helper()
	testkit.Need(t, "git")
	g := &gitEnv{t: t, dir: t.TempDir()}
	g.file = filepath.Join(g.dir, "auth.json")
	cfg := filepath.Join(g.dir, "gitconfig")
	config := "[credential]\n\thelper = \"!'" + binary(t) + "' --file '" + g.file + "'\"\n" + strings.Join(extraConfig, "\n") + "\n"
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	g.env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=", "SSH_ASKPASS=", "HOME="+g.dir, "CRYOSPARC_AUTH_FILE=",
	)
	return g
}

// git runs `git credential ACTION` with input and returns its stdout and
// whether it succeeded. The helper must say nothing on stderr, as git's own
// helper tests demand: only git's own messages may be there.
func (g *gitEnv) git(action, input string) (string, bool) {
	g.t.Helper()
	cmd := exec.Command("git", "credential", action)
	cmd.Dir = g.dir
	cmd.Env = g.env
	cmd.Stdin = strings.NewReader(input)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if strings.Contains(stderr.String(), helper.Name) {
		g.t.Errorf("git credential %s: the helper wrote to stderr: %q", action, stderr.String())
	}
	return string(out), err == nil
}

func (g *gitEnv) approve(input string) {
	g.t.Helper()
	if _, ok := g.git("approve", input); !ok {
		g.t.Fatalf("git credential approve failed for %q", input)
	}
}

// fill returns the password git receives, or "" when it gets none.
func (g *gitEnv) fill(input string) string {
	g.t.Helper()
	out, ok := g.git("fill", input)
	if !ok {
		return ""
	}
	for _, line := range strings.Split(out, "\n") {
		if v, found := strings.CutPrefix(line, "password="); found {
			return v
		}
	}
	return ""
}

// wantFill checks that git credential fill of input gives the password
// want ("" for none).
func (g *gitEnv) wantFill(input, want string) {
	g.t.Helper()
	if got := g.fill(input); got != want {
		g.t.Errorf("fill %q = %q, want %q", input, got, want)
	}
}

// validForPython checks the session file with the pydantic model.
func (g *gitEnv) validForPython() {
	g.t.Helper()
	testkit.ValidForPython(g.t, g.file)
}

func TestGitNoData(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	if p := g.fill("url=https://cryosparc.example.com\n"); p != "" {
		t.Errorf("fill with no data gave %q", p)
	}
	if _, err := os.Stat(g.file); !os.IsNotExist(err) {
		t.Errorf("a get created the session file")
	}
}

func TestGitStoreAndFill(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	g.approve("protocol=https\nhost=cryosparc.example.com\nusername=ali@example.com\npassword=tok-1\n")
	out, ok := g.git("fill", "protocol=https\nhost=cryosparc.example.com\n")
	want := "protocol=https\nhost=cryosparc.example.com\nusername=ali@example.com\npassword=tok-1\n"
	if !ok || out != want {
		t.Errorf("fill = %q, want %q", out, want)
	}
	g.validForPython()
	// The session is there for everyone else too.
	var stdout strings.Builder
	cmd := exec.Command(binary(t), "--file", g.file, "get")
	cmd.Stdin = strings.NewReader("url=https://cryosparc.example.com\n")
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), "access_token=tok-1\n") {
		t.Errorf("get after git approve: %v %q", err, stdout.String())
	}
}

func TestGitFieldsMustMatch(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	g.approve("protocol=https\nhost=cryosparc.example.com:39000\nusername=ali@example.com\npassword=tok\n")
	tests := []struct{ name, in, want string }{
		{"same", "url=https://cryosparc.example.com:39000\n", "tok"},
		{"same with user", "url=https://ali%40example.com@cryosparc.example.com:39000\n", "tok"},
		{"other protocol", "url=http://cryosparc.example.com:39000\n", ""},
		{"other host", "url=https://other.example.com:39000\n", ""},
		{"other port", "url=https://cryosparc.example.com:39001\n", ""},
		{"no port", "url=https://cryosparc.example.com\n", ""},
		{"other user", "url=https://bo%40example.com@cryosparc.example.com:39000\n", ""},
	}
	for _, tt := range tests {
		if got := g.fill(tt.in); got != tt.want {
			t.Errorf("%s: fill = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestGitOverwriteAndSeveralUsers(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	g.approve("url=https://cs.example.com\nusername=ali@example.com\npassword=old\n")
	g.approve("url=https://cs.example.com\nusername=bo@example.com\npassword=bo-tok\n")
	g.approve("url=https://cs.example.com\nusername=ali@example.com\npassword=new\n")
	g.wantFill("url=https://ali%40example.com@cs.example.com\n", "new")
	g.wantFill("url=https://bo%40example.com@cs.example.com\n", "bo-tok")
	// The first user keeps its place: a fill without user gets ali.
	g.wantFill("url=https://cs.example.com\n", "new")
	g.validForPython()
}

func TestGitReject(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	g.approve("url=https://cs.example.com\nusername=ali@example.com\npassword=ali-tok\n")
	g.approve("url=https://cs.example.com\nusername=bo@example.com\npassword=bo-tok\n")
	g.approve("url=https://other.example.com\nusername=ali@example.com\npassword=other-tok\n")

	// A different password erases nothing.
	g.git("reject", "url=https://cs.example.com\nusername=ali@example.com\npassword=stale\n")
	g.wantFill("url=https://ali%40example.com@cs.example.com\n", "ali-tok")
	// Forget one user.
	g.git("reject", "url=https://cs.example.com\nusername=ali@example.com\npassword=ali-tok\n")
	g.wantFill("url=https://ali%40example.com@cs.example.com\n", "")
	g.wantFill("url=https://bo%40example.com@cs.example.com\n", "bo-tok")
	// Forget a whole instance.
	g.git("reject", "url=https://cs.example.com\n")
	g.wantFill("url=https://bo%40example.com@cs.example.com\n", "")
	g.wantFill("url=https://other.example.com\n", "other-tok")
	data, _ := os.ReadFile(g.file)
	if strings.Contains(string(data), "cs.example.com") {
		t.Errorf("forgotten instance key left in the file:\n%s", data)
	}
	g.validForPython()
}

func TestGitUseHTTPPath(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t, "\tuseHttpPath = true")
	g.approve("url=https://cs.example.com/lab-a\nusername=ali@example.com\npassword=a-tok\n")
	g.approve("url=https://cs.example.com/lab-b\nusername=ali@example.com\npassword=b-tok\n")
	g.wantFill("url=https://cs.example.com/lab-a\n", "a-tok")
	g.wantFill("url=https://cs.example.com/lab-b\n", "b-tok")
	g.wantFill("url=https://cs.example.com/lab-c\n", "")
	data, _ := os.ReadFile(g.file)
	if !strings.Contains(string(data), `"https://cs.example.com/lab-a"`) {
		t.Errorf("path not part of the instance URL:\n%s", data)
	}
	g.validForPython()
}

func TestGitReceivesPythonSession(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	out, err := testkit.CSTools(t, "insert", g.file,
		"https://cryosparc.example.com:39000", "ali@example.com", "from-python", "2099-01-01T00:00:00+01:00").CombinedOutput()
	if err != nil {
		t.Fatalf("python insert: %v %s", err, out)
	}
	got, ok := g.git("fill", "url=https://cryosparc.example.com:39000\n")
	want := "protocol=https\nhost=cryosparc.example.com:39000\nusername=ali@example.com\npassword=from-python\n"
	if !ok || got != want {
		t.Errorf("fill = %q, want %q", got, want)
	}
}

// TestGitExpiry: password_expiry_utc is stored as the session's expiry, but
// a git-style get never reports one (the file cannot tell an expiry git gave
// from the 14-day default, and a helper must not invent one); the url-style
// get shows the stored expiry. Against the binary directly: the git here may
// predate the key.
func TestGitExpiry(t *testing.T) {
	t.Parallel() // each has its own files and git config
	file := filepath.Join(t.TempDir(), "auth.json")
	runBin := func(action, in string) (string, int) {
		cmd := exec.Command(binary(t), "--file", file, action)
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		return string(out), 0
	}
	if _, code := runBin("store", "protocol=https\nhost=cs\nusername=a\npassword=p\npassword_expiry_utc=4102444800\n"); code != 0 {
		t.Fatalf("store exit %d", code)
	}
	out, _ := runBin("get", "protocol=https\nhost=cs\n")
	if out != "protocol=https\nhost=cs\nusername=a\npassword=p\n" {
		t.Errorf("get = %q, want the credential without an expiry", out)
	}
	out, _ = runBin("get", "url=https://cs\n")
	if !strings.Contains(out, "expires=2100-01-01T00:00:00Z\n") {
		t.Errorf("get = %q, want expires=2100-01-01T00:00:00Z", out)
	}
	if _, code := runBin("store", "protocol=https\nhost=cs\nusername=b\npassword=p\npassword_expiry_utc=1000000000\n"); code == 0 {
		t.Error("an expired password_expiry_utc was stored")
	}
	if out, code := runBin("get", "protocol=https\nhost=cs\nusername=b\n"); code != 1 || out != "" {
		t.Errorf("expired session served: %q %d", out, code)
	}
}

// TestGitEmptyUsername follows git's own helper test "can store empty
// username": an empty user name and password are stored and given back.
func TestGitEmptyUsername(t *testing.T) {
	t.Parallel() // each has its own files and git config
	g := newGitEnv(t)
	g.approve("protocol=https\nhost=sso.example.com\nusername=\npassword=\n")
	out, ok := g.git("fill", "protocol=https\nhost=sso.example.com\n")
	want := "protocol=https\nhost=sso.example.com\nusername=\npassword=\n"
	if !ok || out != want {
		t.Errorf("fill = %q, %v; want %q", out, ok, want)
	}
	g.validForPython()
}

// TestGitRequestsNotStored: what git ≥ 2.46 may send to store that the
// session file cannot keep is ignored silently (exit 0, nothing on stderr,
// nothing stored): authtype/credential without username and password,
// git's ephemeral=1 credentials, and requests missing either half.
func TestGitRequestsNotStored(t *testing.T) {
	t.Parallel() // each has its own files and git config
	file := filepath.Join(t.TempDir(), "auth.json")
	for _, in := range []string{
		"capability[]=authtype\nauthtype=Bearer\ncredential=random-token\nprotocol=https\nhost=git.example.com\n",
		"capability[]=authtype\nauthtype=Bearer\ncredential=other\nprotocol=https\nhost=git.example.com\nusername=foobar\n",
		"protocol=https\nhost=git.example.com\nusername=u\npassword=p\nephemeral=1\n",
		"capability[]=authtype\nauthtype=Bearer\ncredential=c\nephemeral=1\nprotocol=https\nhost=git.example.com\n",
		"protocol=https\nhost=git.example.com\npassword=p\n",
	} {
		for _, action := range []string{"store", "erase"} {
			out, stderr, code := runBinary(t, in, "--file", file, action)
			if code != 0 || out != "" || stderr != "" {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want a silent exit 0", action, in, code, out, stderr)
			}
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("%q stored something", in)
		}
	}
}

// TestGitRejectWithoutPath: git's rule is that a field absent from an erase
// matches any value, so a reject without path erases the host's
// credentials stored with a path too; one with a path erases only that.
func TestGitRejectWithoutPath(t *testing.T) {
	t.Parallel() // each has its own files and git config
	file := filepath.Join(t.TempDir(), "auth.json")
	for _, in := range []string{
		"protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n",
		"protocol=http\nhost=path.tld\npath=bar.git\nusername=user\npassword=pass\n",
		"protocol=http\nhost=path.tld\nusername=user\npassword=pass\n",
		"protocol=http\nhost=other.tld\npath=foo.git\nusername=user\npassword=pass\n",
	} {
		if _, stderr, code := runBinary(t, in, "--file", file, "store"); code != 0 {
			t.Fatalf("store: %d %s", code, stderr)
		}
	}
	runBinary(t, "protocol=http\nhost=path.tld\npath=bar.git\nusername=user\n", "--file", file, "erase")
	list := func() string {
		out, _, _ := runBinary(t, "", "--file", file, "list", "--json")
		var rows []struct{ URL string }
		json.Unmarshal([]byte(out), &rows)
		var urls []string
		for _, r := range rows {
			urls = append(urls, r.URL)
		}
		return strings.Join(urls, " ")
	}
	if got := list(); got != "http://path.tld/foo.git http://path.tld http://other.tld/foo.git" {
		t.Errorf("after a reject with a path: %s", got)
	}
	runBinary(t, "protocol=http\nhost=path.tld\nusername=user\n", "--file", file, "erase")
	if got := list(); got != "http://other.tld/foo.git" {
		t.Errorf("after a reject without a path: %s, want only other.tld's", got)
	}
}
