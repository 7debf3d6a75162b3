package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// TestREADMEGoProgram builds the README's Go program against this module
// (a go.work beside it names the module's folder) and runs it: it prints
// the session CryoSPARC() would pick, and refuses one that expires within
// the hour it asks for.
func TestREADMEGoProgram(t *testing.T) {
	root := testkit.Root(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 1 {
		t.Fatalf("the README has %d Go blocks; this test builds exactly one whole program", len(blocks))
	}
	dir := t.TempDir()
	files := map[string]string{
		"main.go": string(blocks[0][1]),
		"go.mod":  "module readmeprogram\n\ngo 1.26.0\n",
		"go.work": "go 1.26.0\n\nuse (\n\t.\n\t" + root + "\n)\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prog := filepath.Join(dir, "program")
	build := exec.Command("go", "build", "-o", prog, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's Go program does not build: %v\n%s", err, out)
	}

	home := filepath.Join(dir, "home")
	file := filepath.Join(home, ".config", "cryosparc-tools", "auth.json")
	store := func(email, expires string) {
		t.Helper()
		in := "url=https://cs.example.com\nemail=" + email + "\naccess_token=tok-" + email + "\nexpires=" + expires + "\n"
		if _, stderr, code := runBinary(t, in, "--file", file, "store"); code != 0 {
			t.Fatalf("store: exit %d %s", code, stderr)
		}
	}
	run := func(env ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(prog)
		cmd.Env = append([]string{"HOME=" + home, "PATH=/usr/bin:/bin"}, env...)
		return runCmd(t, cmd)
	}

	store("ali@example.com", "2099-01-31T12:00:00+01:00")
	store("bo@example.com", time.Now().Add(30*time.Minute).UTC().Format(time.RFC3339))
	for _, c := range []struct {
		env      []string
		out, err string
		code     int
	}{
		{env: nil, out: "https://cs.example.com as ali@example.com until 2099-01-31T11:00:00Z\n"},
		{env: []string{"CRYOSPARC_EMAIL=bo@example.com"}, err: "bo@example.com", code: 1},
		{env: []string{"CRYOSPARC_EMAIL=cy@example.com"}, err: "cy@example.com", code: 1},
	} {
		out, stderr, code := run(c.env...)
		if code != c.code || out != c.out || !strings.Contains(stderr, c.err) || strings.Contains(out+stderr, "tok-") {
			t.Errorf("%v: exit %d, out %q, err %q; want exit %d, out %q, err naming %q, no token", c.env, code, out, stderr, c.code, c.out, c.err)
		}
	}
}
