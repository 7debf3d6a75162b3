//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// execFile has ali and bo at https://a, bo's session ending in 30 minutes,
// and ali at http://b:39000.
func execFile(t *testing.T) string {
	t.Helper()
	soon := time.Now().Add(30 * time.Minute).UTC().Format("2006-01-02T15:04:05Z")
	content := `{"https://a.example.com": {"ali@example.com": {"token": {"access_token": "ali-a", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
 "bo@example.com": {"token": {"access_token": "bo-a", "token_type": "bearer"}, "expires": "` + soon + `"}},
 "http://b.example.com:39000": {"ali@example.com": {"token": {"access_token": "ali-b", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// execRun runs the binary with env (and PATH, HOME) and returns its exit
// status and output.
func execRun(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stdout, stderr, code := runCmd(t, cmd)
	return code, stdout, stderr
}

// TestExecChildPicksTheSession: a Python child that chooses its session as
// CryoSPARC() does (testdata/cstools.py choose-env) picks exactly the one
// exec chose, whatever the parent's environment held.
func TestExecChildPicksTheSession(t *testing.T) {
	t.Parallel() // mostly waits; runs beside the other waiting tests, after the load tests
	file := execFile(t)
	py := filepath.Join(testkit.Root(t), "testdata", "cstools.py")
	testkit.Need(t, "python3", "-c", "import pydantic")
	tests := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, nil, "ali-a"},
		{[]string{"CRYOSPARC_EMAIL=bo@example.com"}, nil, "bo-a"},
		{nil, []string{"--url", "b.example.com:39000"}, "ali-b"},
		// The parent's host/port variables would clash with the URL in
		// Python; exec removes them.
		{[]string{"CRYOSPARC_MASTER_HOSTNAME=b.example.com", "CRYOSPARC_BASE_PORT=39000"}, nil, "ali-b"},
		{[]string{"CRYOSPARC_MASTER_HOSTNAME=elsewhere"}, []string{"--url", "https://a.example.com", "--email", "bo@example.com"}, "bo-a"},
		{[]string{"CRYOSPARC_BASE_URL=http://b.example.com:39000", "CRYOSPARC_EMAIL=ali@example.com"}, nil, "ali-b"},
	}
	for _, tt := range tests {
		args := append(append([]string{"--file", file, "exec"}, tt.args...), "--", "python3", py, "choose-env", file)
		code, out, stderr := execRun(t, tt.env, args...)
		if code != 0 || strings.TrimSpace(out) != tt.want {
			t.Errorf("%v exec %v: exit %d, the child used %q (%s), want %q", tt.env, tt.args, code, out, stderr, tt.want)
		}
	}
}

// TestExecEnvironment: the child's environment is the parent's with the
// session's two variables set, the host/port ones gone, and no token
// unless asked.
func TestExecEnvironment(t *testing.T) {
	file := execFile(t)
	code, out, stderr := execRun(t, []string{"CRYOSPARC_MASTER_HOSTNAME=h", "CRYOSPARC_BASE_PORT=1", "KEEP=me", "CRYOSPARC_EMAIL=bo@example.com",
		"CRYOSPARC_PASSWORD=PARENT-PASSWORD", "CRYOSPARC_LICENSE_ID=PARENT-LICENSE", "CRYOSPARC_SESSION_EXPIRES=parent"},
		"--file", file, "exec", "--url", "https://a.example.com", "--", "env")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	vars := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		vars[line]++
	}
	// bo's session ends in 30 minutes (execFile), to the second.
	expires := ""
	for line := range vars {
		if v, ok := strings.CutPrefix(line, "CRYOSPARC_SESSION_EXPIRES="); ok {
			expires = v
		}
	}
	if at, err := time.Parse(time.RFC3339, expires); err != nil || at.Location() != time.UTC || time.Until(at) < 25*time.Minute || time.Until(at) > 31*time.Minute {
		t.Errorf("CRYOSPARC_SESSION_EXPIRES=%q, want bo's expiry, RFC 3339 in UTC (%v)", expires, err)
	}
	for _, want := range []string{"CRYOSPARC_BASE_URL=https://a.example.com", "CRYOSPARC_EMAIL=bo@example.com", "KEEP=me", "CRYOSPARC_SESSION_EXPIRES=" + expires} {
		if vars[want] != 1 {
			t.Errorf("the child's environment lacks %s (once):\n%s", want, out)
		}
	}
	for _, never := range []string{"CRYOSPARC_MASTER_HOSTNAME", "CRYOSPARC_BASE_PORT", "CRYOSPARC_PASSWORD", "PARENT-PASSWORD", "CRYOSPARC_LICENSE_ID", "PARENT-LICENSE", "=parent", "bo-a"} {
		if strings.Contains(out, never) {
			t.Errorf("the child's environment holds %s (host/port, password, license or token):\n%s", never, out)
		}
	}
	code, out, _ = execRun(t, nil, "--file", file, "exec", "--token-env", "CS_TOKEN", "--", "env")
	if code != 0 || !strings.Contains(out, "CS_TOKEN=ali-a\n") {
		t.Errorf("--token-env: exit %d, environment:\n%s", code, out)
	}
}

// TestExecRefusesBeforeStarting: no session, a session ending before the
// job does, no Slurm job to ask, or no such command: the command never
// starts, and the exit status says why.
func TestExecRefusesBeforeStarting(t *testing.T) {
	file := execFile(t)
	marker := filepath.Join(t.TempDir(), "started")
	cmd := []string{"--", "touch", marker}
	inHour := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	in10m := fmt.Sprint(time.Now().Add(10 * time.Minute).Unix())
	tests := []struct {
		name     string
		env      []string
		args     []string
		want     int
		inStderr string
	}{
		{"no session", nil, []string{"--url", "https://c.example.com"}, 1, "login --url https://c.example.com"},
		{"ends before the job", []string{"SLURM_JOB_END_TIME=" + inHour, "CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "job"}, 1, "login --url https://a.example.com --email bo@example.com"},
		{"ends before --min-ttl", []string{"CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "1h"}, 1, "sooner than"},
		{"no Slurm job", nil, []string{"--min-ttl", "job"}, 2, "SLURM_JOB_END_TIME"},
		{"bad --token-env", nil, []string{"--token-env", "A-B"}, 2, "not a variable name"},
		{"--token-env LD_PRELOAD", nil, []string{"--token-env", "LD_PRELOAD"}, 2, "dynamic loader"},
		{"--token-env PATH", nil, []string{"--token-env", "PATH"}, 2, "shell"},
		{"--token-env HOME", nil, []string{"--token-env", "HOME"}, 2, "shell"},
		{"--token-env CRYOSPARC_BASE_URL", nil, []string{"--token-env", "CRYOSPARC_BASE_URL"}, 2, "exec sets or removes"},
		{"--token-env CRYOSPARC_EMAIL", nil, []string{"--token-env", "CRYOSPARC_EMAIL"}, 2, "exec sets or removes"},
		{"--token-env CRYOSPARC_MASTER_HOSTNAME", nil, []string{"--token-env", "CRYOSPARC_MASTER_HOSTNAME"}, 2, "exec sets or removes"},
		{"--token-env ''", nil, []string{"--token-env", ""}, 2, "--token-env is empty"},
		{"--token-env=", nil, []string{"--token-env="}, 2, "--token-env is empty"},
		// SLURM_JOB_END_TIME is bounded before arithmetic: an overflow never
		// turns it into a short wait that a 30-minute session passes.
		{"job end at int64's end", []string{"SLURM_JOB_END_TIME=9223372036854775807", "CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "job"}, 2, "no end time"},
		{"job end 9.2e18", []string{"SLURM_JOB_END_TIME=9.2e18", "CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "job"}, 2, "not a time in epoch seconds"},
		{"job without a time limit", []string{"SLURM_JOB_END_TIME=0"}, []string{"--min-ttl", "job"}, 2, "give --min-ttl DURATION"},
		{"job end a year ahead", []string{"SLURM_JOB_END_TIME=" + fmt.Sprint(time.Now().Add(366*24*time.Hour).Unix())}, []string{"--min-ttl", "job"}, 2, "no end time"},
		{"job end past", []string{"SLURM_JOB_END_TIME=" + fmt.Sprint(time.Now().Add(-3*time.Hour).Unix())}, []string{"--min-ttl", "job"}, 2, "ended 3 h ago"},
		{"negative --min-ttl", []string{"CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "-1s"}, 2, "negative"},
		{"empty --min-ttl", nil, []string{"--min-ttl", ""}, 2, "--min-ttl is empty"},
		{"empty --url", nil, []string{"--url", ""}, 2, "--url is empty"},
		{"empty --email", nil, []string{"--email", ""}, 2, "--email is empty"},
		{"refusal in the words of every message", []string{"CRYOSPARC_EMAIL=bo@example.com"}, []string{"--min-ttl", "2h"}, 1, "sooner than the 2 h asked for"},
	}
	for _, tt := range tests {
		code, _, stderr := execRun(t, tt.env, append(append([]string{"--file", file, "exec"}, tt.args...), cmd...)...)
		if code != tt.want || !strings.Contains(stderr, tt.inStderr) {
			t.Errorf("%s: exit %d (%q), want %d and %q", tt.name, code, stderr, tt.want, tt.inStderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: the command was started", tt.name)
		}
	}
	// A session that outlasts the job starts the command.
	if code, _, stderr := execRun(t, []string{"SLURM_JOB_END_TIME=" + in10m, "CRYOSPARC_EMAIL=bo@example.com"}, append([]string{"--file", file, "exec", "--min-ttl", "job"}, cmd...)...); code != 0 {
		t.Errorf("a session outlasting the job: exit %d (%s)", code, stderr)
	}
	if code, _, stderr := execRun(t, nil, "--file", file, "exec", "--", "no-such-command-here"); code != 2 || !strings.Contains(stderr, "no-such-command-here") {
		t.Errorf("a missing command: exit %d (%q), want 2 naming it", code, stderr)
	}
}

// TestExecStatusAndSignals: the command's exit status and the signals sent
// to the program are the command's.
func TestExecStatusAndSignals(t *testing.T) {
	file := execFile(t)
	if code, _, _ := execRun(t, nil, "--file", file, "exec", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit status %d, want the command's 7", code)
	}
	cmd := exec.Command(binary(t), "--file", file, "exec", "--", "sh", "-c", `trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("the command did not start: %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 42 {
		t.Errorf("after SIGTERM: %v, want the command's trap to exit 42", err)
	}
}

// TestExecRefusesFileCryoSPARCRejects: one entry cryosparc-tools rejects
// makes it ignore the whole file, so the command would find no session:
// exec refuses before starting it (exit 3, pointing at doctor).
func TestExecRefusesFileCryoSPARCRejects(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(file, []byte(`{"https://a": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
 "b@x": {"token": {"access_token": "u", "token_type": "Bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`), 0o600)
	marker := filepath.Join(t.TempDir(), "started")
	code, _, stderr := execRun(t, nil, "--file", file, "exec", "--", "touch", marker)
	if code != 3 || !strings.Contains(stderr, "doctor") {
		t.Errorf("exit %d (%q), want 3 pointing at doctor", code, stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the command was started")
	}
}

// TestExecClosedStreams: a standard stream closed for exec is closed for
// its command too, so the command fails as it would run directly, rather
// than write into /dev/null unseen.
func TestExecClosedStreams(t *testing.T) {
	file := execFile(t)
	cmd := exec.Command("bash", "-c", `"$BIN" --file "$FILE" exec -- sh -c 'printf hi' >&-`)
	cmd.Env = append(os.Environ(), "BIN="+binary(t), "FILE="+file)
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Errorf("the command's output went nowhere and it succeeded (%v)", err)
	}
}
