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
	// The test's own process must not ignore it either, or the children
	// would inherit it from here and the test would prove nothing.
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if sigpipeIgnored(t, string(self)) {
		t.Skip("this test process ignores SIGPIPE")
	}

	t.Run("exec", func(t *testing.T) {
		cmd := exec.Command(bin, "--file", file, "exec", "--", "cat", "/proc/self/status")
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
		status := filepath.Join(dir, "status")
		script := filepath.Join(dir, "pass")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ncat /proc/self/status > '"+status+"'\necho pw\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--file", filepath.Join(dir, "login.json"), "login", "--url", cs.URL,
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
