//go:build unix

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpIntoClosedPipe: help cut short by its reader (`--help | head -1`)
// ends quietly with exit 0; other output into a closed pipe is still exit 5.
func TestHelpIntoClosedPipe(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"login", "--help"}, 0},
		{[]string{"help", "status"}, 0},
		{[]string{"--version"}, 5},
		{[]string{"--file", "/nonexistent/auth.json", "doctor"}, 5},
	}
	for _, tt := range tests {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // the reader is gone before anything is written: EPIPE
		cmd := exec.Command(binary(t), tt.args...)
		var errb strings.Builder
		cmd.Stdout, cmd.Stderr = w, &errb
		cmd.Run()
		w.Close()
		code := cmd.ProcessState.ExitCode()
		if code != tt.code || tt.code == 0 && errb.String() != "" {
			t.Errorf("%q into a closed pipe: exit %d, stderr %q; want %d", tt.args, code, errb.String(), tt.code)
		}
	}
}

// TestUnknownFlagHints: a mistyped flag gets the flag it probably meant; a
// password flag gets what to use instead, never its value back.
func TestUnknownFlagHints(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"login", "--urll", "https://x"}, "did you mean --url?"},
		{[]string{"token", "--emial", "a@x"}, "did you mean --email?"},
		{[]string{"exec", "--min-tll", "1h", "--", "true"}, "did you mean --min-ttl?"},
		{[]string{"--flie", "x", "list"}, "did you mean --file?"},
		{[]string{"login", "--password", "hunter2"}, "use --password-command CMD, --password-stdin"},
		{[]string{"login", "--password=hunter2"}, "there is no password flag"},
		{[]string{"login", "--zzzzzz"}, "flag provided but not defined: --zzzzzz; run"},
	}
	for _, tt := range tests {
		r := runWith(t, &env{}, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "hunter2") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, %q; want 2 and one line with %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
