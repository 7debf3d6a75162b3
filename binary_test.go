package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds cryosparc-credential once for the tests that run it as a
// separate process.
// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cryosparc-credential-bin")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755) // other users run it too (TestUserAfterRoot)
		builtBin = filepath.Join(dir, helper.Name)
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the binary: %v", buildErr)
	}
	return builtBin
}

// runBinary runs the built binary with stdin and returns stdout, stderr
// and the exit status.
func runBinary(t *testing.T, stdin string, args ...string) (string, string, int) {
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(t, cmd)
}

// runCmd runs cmd and returns its output and exit status (-1, and the test
// failed, when it could not run).
func runCmd(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Errorf("running %s: %v", cmd.Path, err)
		return "", "", -1
	}
	return out.String(), errb.String(), 0
}

func pythonValid(t *testing.T, file string) {
	t.Helper()
	testkit.ValidForPython(t, file)
}

// writeLargeFile writes a valid session file of n generated sessions over
// 50 instances (sessiongen.SessionFile: user7@example.com is at
// https://cs7.example.com).
func writeLargeFile(t testing.TB, file string, n int) {
	if err := os.WriteFile(file, sessiongen.SessionFile(n, 50, time.Now().Add(30*24*time.Hour)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, ".auth.json.tmp-*"))
	return m
}

// envInt reads a test knob from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// cpuHogs keeps n processes spinning until the test ends: the conditions
// of a loaded login node, where a writer stalls and readers are late.
func cpuHogs(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		hog := exec.Command("sh", "-c", "while :; do :; done")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hog.Process.Kill(); hog.Wait() })
	}
}
