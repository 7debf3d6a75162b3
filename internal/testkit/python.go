package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the module's root folder, found from the test's working
// directory (a package folder) by looking for go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Need makes sure a program the test needs is installed and, with check,
// that running it with those arguments succeeds (a module it must import,
// say): otherwise the test is skipped with the reason, except under CI
// (see Require).
func Need(t testing.TB, program string, check ...string) {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		Require(t, false, fmt.Sprintf("%s is not installed", program))
		return
	}
	if len(check) > 0 {
		if err := exec.Command(path, check...).Run(); err != nil {
			Require(t, false, fmt.Sprintf("%s is installed, but `%s %s` fails (%v)", program, program, strings.Join(check, " "), err))
		}
	}
}

// Require is the one rule for a test that cannot run here: when ok is
// false it is skipped with the reason, except under CI (CI=true), where
// every test must run and it fails instead.
func Require(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run under CI: %s", reason)
		return
	}
	t.Skipf("skipped: %s; CI runs this test", reason)
}

// CSTools returns the command that runs testdata/cstools.py, the model of
// cryosparc-tools' session file on pydantic 2, with args; it skips (or,
// under CI, fails) the test when python3 with pydantic is missing.
func CSTools(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	Need(t, "python3", "-c", "import pydantic")
	return exec.Command("python3", append([]string{filepath.Join(Root(t), "testdata", "cstools.py")}, args...)...)
}

// ValidForPython fails the test unless cryosparc-tools' model accepts the
// session file at path.
func ValidForPython(t testing.TB, path string) {
	t.Helper()
	if out, err := CSTools(t, "valid", path).CombinedOutput(); err != nil {
		t.Errorf("cryosparc-tools would reject %s: %v %s", path, err, out)
	}
}
