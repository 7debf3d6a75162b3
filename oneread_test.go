//go:build linux

package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// TestOneReadPerCommand: on a file untouched for 20 s, get, token (on a
// terminal too, where it says which session it chose), exec, and a miss
// (which says why nothing was found) each open the session file once, as
// strace sees it: one version of the file answers the whole command.
func TestOneReadPerCommand(t *testing.T) {
	testkit.Need(t, "strace", "-f", "-qq", "-o", "/dev/null", "true")
	file := execFile(t) // ali and bo at https://a, ali at http://b:39000
	old := time.Now().Add(-20 * time.Second)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		stdin    string
		terminal bool // stderr a terminal
		args     []string
		code     int
		stdout   string // contained in stdout
		stderr   string // contained in stderr (the terminal's screen)
	}{
		{name: "get", stdin: "url=https://a.example.com\nemail=ali@example.com\n", args: []string{"get"}, stdout: "access_token=ali-a\n"},
		{name: "token", args: []string{"token", "--url", "https://a.example.com", "--email", "ali@example.com"}, stdout: "ali-a\n"},
		{name: "token on a terminal", terminal: true, args: []string{"token"}, stdout: "ali-a\n",
			stderr: "using the session of ali@example.com at https://a.example.com (2 instances have sessions, 2 emails have sessions there"},
		{name: "exec", args: []string{"exec", "--url", "https://a.example.com", "--", "true"}},
		{name: "exec on a terminal", terminal: true, args: []string{"exec", "--", "true"}, stderr: "using the session of ali@example.com"},
		{name: "get of an unknown email", stdin: "url=https://a.example.com\nemail=nobody@example.com\n", args: []string{"get"}, code: 1,
			stderr: "that instance has sessions for ali@example.com, bo@example.com only"},
		{name: "token of an unknown email on a terminal", terminal: true, args: []string{"token", "--email", "nobody@example.com"}, code: 1,
			stderr: "sessions are stored for https://a.example.com, http://b.example.com:39000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			trace := filepath.Join(t.TempDir(), "trace")
			// Run as root, the file is opened relative to its folder: by its
			// name in it.
			args := append([]string{"-f", "-qq", "-o", trace, "-e", "trace=openat,open", "-P", file, "-P", filepath.Base(file),
				binary(t), "--file", file}, tt.args...)
			cmd := exec.Command("strace", args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr strings.Builder
			cmd.Stdout = &stdout
			code := 0
			if tt.terminal {
				ptmx := startOnTerminal(t, cmd)
				screen := make(chan string, 1)
				go func() { b, _ := io.ReadAll(ptmx); screen <- string(b) }() // ends in EIO once the program ends
				err := cmd.Wait()
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				select {
				case s := <-screen:
					stderr.WriteString(s)
				case <-time.After(10 * time.Second):
					t.Error("the terminal never closed")
				}
				ptmx.Close()
			} else {
				var out, errs string
				out, errs, code = runCmd(t, cmd)
				stdout.WriteString(out)
				stderr.WriteString(errs)
			}
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
			}
			data, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			opens := regexp.MustCompile(`open(at)?\(.*"(`+regexp.QuoteMeta(file)+`|auth\.json)"`).FindAllString(string(data), -1)
			if len(opens) != 1 {
				t.Errorf("the session file was opened %d times, want once:\n%s", len(opens), data)
			}
		})
	}
}
