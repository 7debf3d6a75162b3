//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/renewal"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// renewalSetup is a session file holding ali's session, due for renewal
// (valid one more day, renewed within 3), and a password command that
// counts its runs.
type renewalSetup struct {
	dir, file, runs string
	args            []string
}

func newRenewalSetup(t *testing.T, url, password string) renewalSetup {
	t.Helper()
	dir := t.TempDir()
	s := renewalSetup{dir: dir, file: filepath.Join(dir, "auth.json"), runs: filepath.Join(dir, "runs")}
	script := filepath.Join(dir, "pw")
	body := fmt.Sprintf("#!/bin/sh\necho run >> '%s'\nprintf '%%s\\nnotes: the second line is not the password\\n' '%s'\n", s.runs, password)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf("url=%s\nemail=ali@example.com\naccess_token=old-token\nexpires_in=86400\n", url)
	if _, errs, code := runBinary(t, req, "--file", s.file, "store"); code != 0 {
		t.Fatalf("seeding the file: exit %d (%s)", code, errs)
	}
	s.args = []string{"--file", s.file, "login", "--url", url, "--email", "ali@example.com",
		"--password-command", script, "--renew-within", "3d", "--timeout", "60s"}
	return s
}

// passwordRuns is how many times the password command ran.
func (s renewalSetup) passwordRuns() int {
	data, _ := os.ReadFile(s.runs)
	return strings.Count(string(data), "run\n")
}

// renewalCmd is the binary run with args in one of three ways: as it is
// (kind 0), in a UTS namespace of its own with another host name (kind 1:
// another host, as far as the lock files tell), or with every flock(2)
// refused with ENOLCK by strace (kind 2: NFS without a lock manager),
// tracing into trace.
func renewalCmd(t *testing.T, kind int, trace string, args ...string) *exec.Cmd {
	bin := binary(t)
	switch kind {
	case 1:
		return exec.Command("unshare", append([]string{"-u", "sh", "-c", `hostname other-host && exec "$0" "$@"`, bin}, args...)...)
	case 2:
		return exec.Command("strace", append([]string{"-f", "-qq", "-o", trace, "-e", "trace=flock", "-e", "inject=flock:error=ENOLCK", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

type procResult struct {
	kind           int
	stdout, stderr string
	code           int
}

// runAtOnce starts n renewals of kinds i%3 at once and waits for them.
func runAtOnce(t *testing.T, s renewalSetup, n int) []procResult {
	t.Helper()
	testkit.Need(t, "strace", "-f", "-qq", "-o", "/dev/null", "true")
	testkit.Need(t, "unshare", "-u", "true")
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, 2*n)
	for i := range cmds {
		cmds[i] = renewalCmd(t, i%3, filepath.Join(s.dir, fmt.Sprintf("trace-%d", i)), s.args...)
		outs[2*i], outs[2*i+1] = &strings.Builder{}, &strings.Builder{}
		cmds[i].Stdout, cmds[i].Stderr = outs[2*i], outs[2*i+1]
		// No controlling terminal, as under cron.
		cmds[i].SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]procResult, n)
	for i, c := range cmds {
		c.Wait()
		res[i] = procResult{i % 3, outs[2*i].String(), outs[2*i+1].String(), c.ProcessState.ExitCode()}
	}
	for i := 2; i < n; i += 3 {
		if data, _ := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("trace-%d", i))); !strings.Contains(string(data), "INJECTED") {
			t.Errorf("renewal %d: flock was not refused (strace injected nothing)", i)
		}
	}
	return res
}

// TestRenewalOnceAcrossProcesses: 20 renewals of a due session at once
// (a third on "another host", a third with flock refused), against a
// server that takes 300 ms per request (600 ms per login), send one login
// and run the password command once; every one exits 0, and those that
// waited say whose renewal they joined.
func TestRenewalOnceAcrossProcesses(t *testing.T) {
	cs := newCryoSPARC(t, "s3cret")
	s := newRenewalSetup(t, cs.URL, "s3cret")
	cs.SetDelay(300 * time.Millisecond)
	start := time.Now()
	res := runAtOnce(t, s, 20)
	t.Logf("20 renewals in %s: %d login(s), %d password command run(s)", time.Since(start).Round(time.Millisecond), len(cs.Logins()), s.passwordRuns())

	if n := len(cs.Logins()); n != 1 {
		t.Errorf("%d logins sent, want 1", n)
	}
	if n := s.passwordRuns(); n != 1 {
		t.Errorf("the password command ran %d times, want 1", n)
	}
	joined, renewed := 0, 0
	by := regexp.MustCompile(`^Joined the renewal by process (\d+) on (\S+) at \d\d:\d\d:\d\d: `)
	var winner string
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("renewal %d (kind %d): exit %d: %s", i, r.kind, r.code, r.stderr)
		}
		switch {
		case strings.HasPrefix(r.stdout, "Logged in to "):
			renewed++
			winner, _ = os.Hostname()
			if r.kind == 1 {
				winner = "other-host"
			}
		case by.MatchString(r.stdout):
			joined++
		case strings.Contains(r.stdout, "nothing to renew"):
			// started after the renewal had ended
		default:
			t.Errorf("renewal %d (kind %d): unexpected output %q %q", i, r.kind, r.stdout, r.stderr)
		}
	}
	if renewed != 1 || joined == 0 {
		t.Errorf("%d renewed, %d joined; want 1 and some", renewed, joined)
	}
	t.Logf("%d renewed, %d joined, %d found nothing to renew", renewed, joined, 20-renewed-joined)
	for _, r := range res {
		if m := by.FindStringSubmatch(r.stdout); m != nil && m[2] != winner {
			t.Errorf("a joiner names host %s, but the renewal ran on %s", m[2], winner)
		}
	}
	sess, ok, err := store.Lookup(s.file, nil, cs.URL, "ali@example.com")
	if err != nil || !ok || sess.Token == "old-token" || time.Until(sess.Expires.Time()) < 13*24*time.Hour {
		t.Errorf("the session was not renewed: %v %v %+v", ok, err, sess.Expires)
	}
	left, _ := filepath.Glob(s.file + ".renew.lock.*")
	temps, _ := filepath.Glob(filepath.Join(s.dir, ".auth.json.*tmp-*"))
	if len(left)+len(temps) > 0 {
		t.Errorf("left behind: %v %v", left, temps)
	}
	fi, err := os.Stat(s.file + ".renew.note")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the renewal note: %v, %v; want mode 0600", fi, err)
	}
	if data, _ := os.ReadFile(s.file + ".renew.note"); strings.Contains(string(data), "s3cret") || strings.Contains(string(data), sess.Token) {
		t.Errorf("the renewal note holds a secret: %s", data)
	}
}

// TestRefusedRenewalNotRepeated: the server refuses the password; of 10
// renewals at once and one after them, one sends it (one login, one run
// of the password command) and every one exits 4, saying when and where
// it was refused and how to retry. --force sends it again; a login that
// succeeds ends the hold.
func TestRefusedRenewalNotRepeated(t *testing.T) {
	t.Parallel() // mostly waits; runs beside the other waiting tests, after the load tests
	cs := newCryoSPARC(t, "right")
	s := newRenewalSetup(t, cs.URL, "wrong")
	cs.SetDelay(300 * time.Millisecond)
	res := runAtOnce(t, s, 10)
	after := renewalCmd(t, 0, "", s.args...)
	out, errs, code := runCmd(t, after)
	res = append(res, procResult{0, out, errs, code})
	t.Logf("11 renewals with a refused password: %d login(s), %d password command run(s)", len(cs.Logins()), s.passwordRuns())

	if n := len(cs.Logins()); n != 1 {
		t.Errorf("%d logins sent, want 1", n)
	}
	if n := s.passwordRuns(); n != 1 {
		t.Errorf("the password command ran %d times, want 1", n)
	}
	held := regexp.MustCompile(`refused the password of ali@example\.com at \S+ at \d\d:\d\d:\d\d \(process \d+ on \S+\); renewals do not send it again until \d\d:\d\d:\d\d: .*login --url .* or renew with --force`)
	sent := 0
	for i, r := range res {
		if r.code != 4 || r.stdout != "" {
			t.Errorf("renewal %d: exit %d, stdout %q, want 4 and nothing", i, r.code, r.stdout)
		}
		switch {
		case strings.Contains(r.stderr, "refused the login (HTTP 401") && strings.Contains(r.stderr, "--force"):
			sent++
		case !held.MatchString(r.stderr):
			t.Errorf("renewal %d: %q does not say when and where the password was refused and how to retry", i, r.stderr)
		}
	}
	if sent != 1 {
		t.Errorf("%d renewals say the server refused them, want 1", sent)
	}

	// --force sends it (still wrong: refused again, exit 4).
	force := append(append([]string(nil), s.args...), "--force")
	if _, errs, code := runCmd(t, renewalCmd(t, 0, "", force...)); code != 4 || len(cs.Logins()) != 2 {
		t.Errorf("--force: exit %d (%s), %d logins; want 4 and a second login", code, errs, len(cs.Logins()))
	}
	// A login that succeeds (the password fixed) ends the hold.
	fixed := filepath.Join(s.dir, "fixed")
	os.WriteFile(fixed, []byte("#!/bin/sh\necho right\n"), 0o700)
	if _, errs, code := runBinary(t, "", "--file", s.file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", fixed, "--quiet"); code != 0 {
		t.Fatalf("login with the right password: exit %d (%s)", code, errs)
	}
	if _, err := os.Stat(s.file + ".renew.note"); !os.IsNotExist(err) {
		t.Errorf("the note stays after a successful login: %v", err)
	}
}

// TestRenewalWaitBounded: a renewal waits for one in progress at most the
// lock timeout plus twice --timeout, then exits 3 saying that another
// renewal is still running, without a login or a run of the password
// command.
func TestRenewalWaitBounded(t *testing.T) {
	t.Parallel() // mostly waits; runs beside the other waiting tests, after the load tests
	cs := newCryoSPARC(t, "s3cret")
	s := newRenewalSetup(t, cs.URL, "s3cret")
	held, err := renewal.Take(s.file, renewal.Options{Check: store.Existing}) // a renewal in progress
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	args := append(append([]string(nil), s.args...), "--timeout", "1s", "--lock-timeout", "1s")
	start := time.Now()
	_, errs, code := runBinary(t, "", args...)
	took := time.Since(start)
	if code != 3 || !strings.Contains(errs, "another renewal of the sessions in") || !strings.Contains(errs, "auth.json.renew.lock after 3 s") {
		t.Errorf("exit %d (%s); want 3 saying another renewal is running", code, errs)
	}
	if took < 3*time.Second || took > 20*time.Second {
		t.Errorf("waited %s, want 3 s (1 s lock timeout + 2 × 1 s)", took)
	}
	if len(cs.Logins()) != 0 || s.passwordRuns() != 0 {
		t.Errorf("%d logins, %d password command runs while another renewal held the lock", len(cs.Logins()), s.passwordRuns())
	}
}
