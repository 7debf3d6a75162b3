package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// oneSession is a session file of a@x at https://x.
const oneSession = `{"https://x": {"a@x": {"token": {"access_token": "tok", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`

// TestClosedStreams runs the real binary with standard streams closed, full
// or broken, as a shell leaves them: what was asked cannot be done, and the
// exit status says so (SPEC §4: 2 for a closed stdin, 5 for output that
// could not be written), never a silent 0 and never death by SIGPIPE.
func TestClosedStreams(t *testing.T) {
	testkit.Need(t, "bash")
	bin := binary(t)
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, []byte(oneSession), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, shell string
		want        int
		inStderr    string
	}{
		{"get with stdin closed", `"$BIN" --file "$FILE" get <&-`, 2, "standard input is closed"},
		{"store with stdin closed", `"$BIN" --file "$FILE" store <&-`, 2, "standard input is closed"},
		{"get with stdout closed", `printf 'url=https://x\n' | "$BIN" --file "$FILE" get >&-`, 5, "standard output is closed"},
		{"token with stdout closed", `"$BIN" --file "$FILE" token >&-`, 5, "standard output is closed"},
		{"get to a full disk", `printf 'url=https://x\n' | "$BIN" --file "$FILE" get >/dev/full`, 5, "no space"},
		{"doctor to a full disk", `"$BIN" --file "$FILE" doctor >/dev/full`, 5, "no space"},
		{"list to a full disk", `"$BIN" --file "$FILE" list >/dev/full`, 5, "no space"},
		{"status to a full disk", `"$BIN" --file "$FILE" status --url https://nowhere.invalid >/dev/full`, 1, ""},
		// An empty request from /dev/null is still a request (find's first).
		{"get from /dev/null", `"$BIN" --file "$FILE" get </dev/null >/dev/null`, 0, ""},
		{"get to /dev/null", `printf 'url=https://x\n' | "$BIN" --file "$FILE" get >/dev/null`, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", tt.shell)
			cmd.Env = append(os.Environ(), "BIN="+bin, "FILE="+file)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.want || !strings.Contains(stderr.String(), tt.inStderr) {
				t.Errorf("exit %d, want %d; stderr %q, want it to hold %q", code, tt.want, stderr.String(), tt.inStderr)
			}
		})
	}
}

// TestBrokenPipe writes the answer into a pipe whose reader has gone: the
// binary reports exit 5 instead of being killed by SIGPIPE.
func TestBrokenPipe(t *testing.T) {
	bin := binary(t)
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, []byte(oneSession), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"get"}, {"token"}, {"list"}, {"doctor"}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cmd := exec.Command(bin, append([]string{"--file", file}, args...)...)
		cmd.Stdin = strings.NewReader("url=https://x\n")
		cmd.Stdout = w
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err = cmd.Run()
		w.Close()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 5 {
			t.Errorf("%s into a broken pipe: %v (want exit 5, not a signal); stderr %q", args, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "broken pipe") {
			t.Errorf("%s: stderr %q does not say the pipe is broken", args, stderr.String())
		}
	}
}

// TestServerExitCodes: 4 only when the server refused; 6 when it could not
// be reached, through the real binary.
func TestServerExitCodes(t *testing.T) {
	bin := binary(t)
	cs := newCryoSPARC(t, "right")
	closed := closedPort(t)
	file := filepath.Join(t.TempDir(), "auth.json")
	session := `{"` + cs.URL + `": {"a@x": {"token": {"access_token": "not-issued", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}, "` +
		closed + `": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	if err := os.WriteFile(file, []byte(session), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  int
	}{
		{"login refused", []string{"login", "--url", cs.URL, "--email", "a@x", "--password-stdin"}, "wrong\n", 4},
		{"login unreachable", []string{"login", "--url", closed, "--email", "a@x", "--password-stdin"}, "right\n", 6},
		{"status rejected", []string{"status", "--url", cs.URL}, "", 4},
		{"status unreachable", []string{"status", "--url", closed}, "", 6},
		{"status both", []string{"status"}, "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"--file", file}, tt.args...)...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tt.want {
				t.Errorf("%v (want exit %d): %s", err, tt.want, out)
			}
		})
	}
}

// closedPort returns the URL of a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
