package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sigpipeIgnored reads a SigIgn line of /proc/<pid>/status and says
// whether SIGPIPE (13, bit 12) is in it.
func sigpipeIgnored(t *testing.T, status string) bool {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			if err != nil {
				t.Fatalf("SigIgn line %q: %v", line, err)
			}
			return bits&(1<<12) != 0
		}
	}
	t.Fatalf("no SigIgn line in %q", status)
	return false
}

// TestChildrenGetDefaultSIGPIPE: the binary ignores SIGPIPE (a broken pipe
// is exit 5, TestBrokenPipe), but the programs it starts must not inherit
// that: exec's command and the password command get SIGPIPE's default
// action, as they would from a shell (`yes | head -1` under exec ends).
// Through the real binary: only Main ignores the signal.
func TestChildrenGetDefaultSIGPIPE(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(file, []byte(oneSession), 0o600); err != nil {
		t.Fatal(err)
	}
	// The wrapper starts a program with SIGPIPE ignored: what the second
	// case below relies on.
	out, err := ignoringSIGPIPE("cat", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !sigpipeIgnored(t, string(out)) {
		t.Fatal("a program started by the wrapper does not ignore SIGPIPE")
	}
	// Started as usual, and started with SIGPIPE ignored (as under a
	// parent that ignores it): the children get the default either way.
	for _, started := range []struct {
		name string
		wrap func(args ...string) *exec.Cmd
	}{
		{"as usual", func(args ...string) *exec.Cmd { return exec.Command(bin, args...) }},
		{"ignoring SIGPIPE", func(args ...string) *exec.Cmd { return ignoringSIGPIPE(bin, args...) }},
	} {
		t.Run(started.name, func(t *testing.T) { childrenGetDefaultSIGPIPE(t, dir, file, started.wrap) })
	}
}

// ignoringSIGPIPE is a command that runs name with args, started with
// SIGPIPE ignored.
func ignoringSIGPIPE(name string, args ...string) *exec.Cmd {
	return exec.Command("/bin/sh", append([]string{"-c", `trap "" PIPE; exec "$0" "$@"`, name}, args...)...)
}

func childrenGetDefaultSIGPIPE(t *testing.T, dir, file string, command func(args ...string) *exec.Cmd) {
	t.Run("exec", func(t *testing.T) {
		cmd := command("--file", file, "exec", "--", "cat", "/proc/self/status")
		stdout, stderr, code := runCmd(t, cmd)
		if code != 0 {
			t.Fatalf("exec: exit %d: %s", code, stderr)
		}
		if sigpipeIgnored(t, stdout) {
			t.Errorf("exec's command runs with SIGPIPE ignored")
		}
	})

	t.Run("password command", func(t *testing.T) {
		cs := newCryoSPARC(t, "pw")
		sub := t.TempDir()
		status := filepath.Join(sub, "status")
		script := filepath.Join(sub, "pass")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ncat /proc/self/status > '"+status+"'\necho pw\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := command("--file", filepath.Join(sub, "login.json"), "login", "--url", cs.URL,
			"--email", "ali@example.com", "--password-command", script)
		if _, stderr, code := runCmd(t, cmd); code != 0 {
			t.Fatalf("login: exit %d: %s", code, stderr)
		}
		got, err := os.ReadFile(status)
		if err != nil {
			t.Fatal(err)
		}
		if sigpipeIgnored(t, string(got)) {
			t.Errorf("the password command runs with SIGPIPE ignored")
		}
	})
}
