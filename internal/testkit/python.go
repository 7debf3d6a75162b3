package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
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

// Need makes sure a program the test needs is installed: without it the
// test is skipped, with the reason, except under CI (CI=true), where every
// test must run and a missing program fails it.
func Need(t testing.TB, program string, check ...string) {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil && len(check) > 0 {
		err = exec.Command(path, check...).Run()
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is needed and missing under CI: %v", program, err)
	}
	t.Skipf("%s is not available (%v); CI runs this test", program, err)
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
