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

// TestOneReadPerWrite: logout (one session, or --all --yes) and doctor
// --fix (a rewrite, or a file with nothing to repair) open the session
// file once on a file untouched for 20 s that this program has written
// before (its auth.json.lock beside it): logout chooses what to erase in
// the version it read under the lock, and doctor reports from what the
// repair read or wrote. The backup, the new file and the lock are other
// names, not counted. Without the lock file, store's check that the file
// is a session file before creating one beside it reads it once more.
func TestOneReadPerWrite(t *testing.T) {
	testkit.Need(t, "strace", "-f", "-qq", "-o", "/dev/null", "true")
	for _, tt := range []struct {
		name      string
		noLock    bool // no lock file yet
		canonical bool // the file as a write leaves it: nothing to repair
		args      []string
		stdout    string // contained in stdout
		opens     int    // without a lock file: at most
	}{
		{name: "logout", args: []string{"logout", "--email", "bo@example.com"}, stdout: "Erased 1 session(s)", opens: 1},
		{name: "logout of nothing", args: []string{"logout", "--email", "nobody@example.com"}, opens: 1},
		{name: "logout --all --yes", args: []string{"logout", "--all", "--yes", "--url", "https://a.example.com"}, stdout: "Erased 2 session(s)", opens: 1},
		{name: "doctor --fix rewriting", args: []string{"doctor", "--fix"}, stdout: "Rewrote", opens: 1},
		{name: "doctor --fix with nothing to repair", canonical: true, args: []string{"doctor", "--fix"}, stdout: "ok: valid for cryosparc-tools", opens: 1},
		{name: "logout, no lock file yet", noLock: true, args: []string{"logout", "--email", "bo@example.com"}, stdout: "Erased 1 session(s)", opens: 2},
		{name: "doctor --fix, no lock file yet", noLock: true, args: []string{"doctor", "--fix"}, stdout: "Rewrote", opens: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := execFile(t) // ali and bo at https://a, ali at http://b:39000
			if tt.canonical {
				if out, errs, code := runBinary(t, "", "--file", file, "doctor", "--fix"); code != 0 {
					t.Fatalf("doctor --fix: exit %d %s %s", code, out, errs)
				}
			}
			if !tt.noLock {
				if err := os.WriteFile(file+".lock", nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-20 * time.Second)
			if err := os.Chtimes(file, old, old); err != nil {
				t.Fatal(err)
			}
			trace := filepath.Join(t.TempDir(), "trace")
			args := append([]string{"-f", "-qq", "-o", trace, "-e", "trace=openat,open", "-P", file, "-P", filepath.Base(file),
				binary(t), "--file", file}, tt.args...)
			cmd := exec.Command("strace", args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			stdout, stderr, code := runCmd(t, cmd)
			if code != 0 || !strings.Contains(stdout, tt.stdout) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 0, stdout with %q", code, stdout, stderr, tt.stdout)
			}
			data, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			opens := regexp.MustCompile(`open(at)?\(.*"(`+regexp.QuoteMeta(file)+`|auth\.json)"`).FindAllString(string(data), -1)
			if len(opens) > tt.opens || !tt.noLock && len(opens) != tt.opens {
				t.Errorf("the session file was opened %d times, want %d:\n%s", len(opens), tt.opens, data)
			}
		})
	}
}
