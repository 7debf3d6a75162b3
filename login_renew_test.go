//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestUnattendedRenewal is the crontab line: login --password-command
// --renew-within. No request while the session is valid for longer; one
// login when it is due; the password reaches only the user's command's
// output, never an argument of this program or a file.
func TestUnattendedRenewal(t *testing.T) {
	cs := newCryoSPARC(t, "s3cret pass")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	script := filepath.Join(dir, "pass show")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = cryosparc ] || exit 9\nprintf 's3cret pass\\n'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := "'" + script + "' cryosparc" // quotes keep the path with a space one word
	args := []string{"--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--renew-within", "3d"}
	now := time.Now()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return now.Add(d) } }

	// No session yet: it logs in.
	if r := runWith(t, &env{Now: at(0)}, args...); r.code != 0 || len(cs.Logins()) != 1 {
		t.Fatalf("first run: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	if got := cs.Logins()[0]["password"]; got == "s3cret pass" || got == "" {
		t.Errorf("the server got %q, not the SHA-256 of the password", got)
	}
	// Valid for 14 days, more than 3: nothing to do, no request.
	r := runWith(t, &env{Now: at(24 * time.Hour)}, args...)
	if r.code != 0 || len(cs.Logins()) != 1 || !strings.Contains(r.stdout, "nothing to renew") {
		t.Errorf("a session valid for 13 more days: exit %d, %d logins, %q", r.code, len(cs.Logins()), r.stdout)
	}
	// 12 days on, 2 are left: it renews, once.
	r = runWith(t, &env{Now: at(12 * 24 * time.Hour)}, args...)
	if r.code != 0 || len(cs.Logins()) != 2 {
		t.Errorf("a session due for renewal: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	sess, ok, _ := store.Lookup(file, &store.Options{Now: at(12 * 24 * time.Hour)}, cs.URL, "ali@example.com")
	if !ok || sess.Expires.Time().Before(now.Add(25*24*time.Hour)) {
		t.Errorf("the renewed session expires %v", sess.Expires)
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "s3cret") || strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Errorf("the password reached the file or the output")
	}
	// A failing command: exit 2 with its status, no login.
	bad := append(args[:len(args)-4:len(args)-4], "--password-command", "'"+script+"' other")
	r = runWith(t, &env{Now: at(12 * 24 * time.Hour)}, bad...)
	if r.code != 2 || !strings.Contains(r.stderr, "exit status 9") || len(cs.Logins()) != 2 {
		t.Errorf("a failing password command: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	// --expires as a duration, and its one-year cap.
	r = runWith(t, &env{Now: at(0)}, "--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--expires", "30d")
	sess, _, _ = store.Lookup(file, nil, cs.URL, "ali@example.com")
	if r.code != 0 || sess.Expires.Time().Sub(now) < 30*24*time.Hour-time.Minute || sess.Expires.Time().Sub(now) > 30*24*time.Hour+time.Minute {
		t.Errorf("--expires 30d: exit %d (%s), expires %v", r.code, r.stderr, sess.Expires)
	}
	if r := runWith(t, &env{Now: at(0)}, "--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--expires", "400d"); r.code != 2 || !strings.Contains(r.stderr, "one year") {
		t.Errorf("--expires 400d: exit %d (%s), want 2 naming the one-year cap", r.code, r.stderr)
	}
}

// TestPasswordCommandFirstLine: the password is the first line of the
// command's output, as pass prints it (the password, then notes); a
// command printing nothing on its first line is refused before any login.
func TestPasswordCommandFirstLine(t *testing.T) {
	tests := []struct {
		name, output string
		want         string // the password sent; "" for none
		err          string
	}{
		{"pass: password, then notes", "s3cret pass\nlogin: ali\nurl: https://cs\n", "s3cret pass", ""},
		{"one line", "s3cret pass\n", "s3cret pass", ""},
		{"no line break", "s3cret pass", "s3cret pass", ""},
		{"CRLF", "s3cret pass\r\nnotes\r\n", "s3cret pass", ""},
		{"empty first line", "\ns3cret pass\n", "", "nothing on its first line"},
		{"nothing", "", "", "printed no password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newCryoSPARC(t, "s3cret pass")
			dir := t.TempDir()
			script := filepath.Join(dir, "pw")
			os.WriteFile(script, []byte("#!/bin/sh\nprintf '"+strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(tt.output)+"'\n"), 0o700)
			r := runWith(t, &env{}, "--file", filepath.Join(dir, "auth.json"), "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", script)
			if tt.want == "" {
				if r.code != 2 || !strings.Contains(r.stderr, tt.err) || len(cs.Logins()) != 0 {
					t.Errorf("exit %d (%s), %d logins; want 2 saying %q, no login", r.code, r.stderr, len(cs.Logins()), tt.err)
				}
				return
			}
			if r.code != 0 || len(cs.Logins()) != 1 {
				t.Errorf("exit %d (%s), %d logins; want 0 and one", r.code, r.stderr, len(cs.Logins()))
			}
		})
	}
}

// TestPasswordCommandTimeout: --timeout bounds the password command: one
// that hangs (a shell waiting on a sleep it started) is ended within the
// timeout and a margin, with the process it started, and no login is
// tried.
func TestPasswordCommandTimeout(t *testing.T) {
	t.Parallel() // mostly waits; runs beside the other waiting tests, after the load tests
	cs := newCryoSPARC(t, "pw")
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	cmd := exec.Command(binary(t), "--file", filepath.Join(dir, "auth.json"), "login", "--url", cs.URL, "--email", "ali@example.com",
		"--timeout", "3s", "--password-command", `sh -c 'sleep 100 & echo $! > `+pidFile+`; sleep 100'`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no terminal, as under cron
	start := time.Now()
	_, errs, code := runCmd(t, cmd)
	took := time.Since(start)
	t.Logf("ended after %s", took.Round(time.Millisecond))
	if code != 2 || !strings.Contains(errs, "did not end within --timeout 3s") || len(cs.Logins()) != 0 {
		t.Errorf("exit %d (%s), %d logins; want 2 naming the timeout, no login", code, errs, len(cs.Logins()))
	}
	if took > 6*time.Second {
		t.Errorf("took %s, want at most 6 s", took)
	}
	data, err := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("the command's child wrote no pid: %v", err)
	}
	// Gone, or a zombie waiting for an init that does not reap: not running.
	deadline := time.Now().Add(2 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || bytes.Contains(stat, []byte(") Z ")) {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the password command's child (pid %d) survived: %s", pid, stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLoginQuiet: with --quiet, nothing is printed when nothing is due or
// the login succeeded; an error still is, on stderr.
func TestLoginQuiet(t *testing.T) {
	cs := newCryoSPARC(t, "pw")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("#!/bin/sh\necho pw\n"), 0o700)
	os.WriteFile(bad, []byte("#!/bin/sh\necho wrong\n"), 0o700)
	now := time.Now()
	tests := []struct {
		name    string
		at      time.Duration
		command string
		code    int
		stderr  string
	}{
		{"no session: logs in", 0, good, 0, ""},
		{"nothing due", 24 * time.Hour, good, 0, ""},
		{"due: renews", 12 * 24 * time.Hour, good, 0, ""},
		{"refused: the error is printed", 24 * 24 * time.Hour, bad, 4, "refused the login"},
	}
	for _, tt := range tests {
		r := runWith(t, &env{Now: func() time.Time { return now.Add(tt.at) }}, "--file", file, "login", "--url", cs.URL, "--email", "ali@example.com",
			"--password-command", tt.command, "--renew-within", "3d", "--quiet")
		if r.code != tt.code || r.stdout != "" || (tt.stderr == "") != (r.stderr == "") || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, nothing on stdout, stderr with %q", tt.name, r.code, r.stdout, r.stderr, tt.code, tt.stderr)
		}
	}
	if n := len(cs.Logins()); n != 3 {
		t.Errorf("%d logins, want 3", n)
	}
}
