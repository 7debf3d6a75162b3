//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// nobody is the user that plants links in these tests.
const nobody = 65534

// userFolder returns, for a test run as root, a folder of user nobody's
// (home) and one of root's (system) holding a file of root's (victim),
// in a folder others may pass through.
func userFolder(t *testing.T) (home, system, victim string) {
	t.Helper()
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, system = filepath.Join(dir, "home"), filepath.Join(dir, "system")
	os.Mkdir(home, 0o700)
	os.Chown(home, nobody, nobody)
	os.Mkdir(system, 0o755)
	victim = filepath.Join(system, "passwd")
	os.WriteFile(victim, []byte("root:x:0:0\n"), 0o644)
	return home, system, victim
}

// plant makes a link at name in home, as nobody would.
func plant(t *testing.T, name, target string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	os.Lchown(name, nobody, nobody)
}

// TestOpenReadAsRootChecksWhatItOpened: the file root opens through a
// user's link must be the user's, whatever the path showed when it was
// looked at: what the user swaps in between the look and the open (a file
// of root's in place of the user's, or a link) is refused, checked on
// what was opened.
func TestOpenReadAsRootChecksWhatItOpened(t *testing.T) {
	home, _, victim := userFolder(t)
	mine := filepath.Join(home, "mine")
	path := filepath.Join(home, "auth.json")
	reset := func() {
		os.Remove(mine)
		os.WriteFile(mine, []byte("{}"), 0o600)
		os.Chown(mine, nobody, nobody)
	}
	reset()
	plant(t, path, mine)
	for _, c := range []struct {
		name string
		swap func() error
	}{
		{"nothing swapped", func() error { return nil }},
		// A hard link stands for any way the user's file could become
		// root's: the path looked at was the user's, what is opened is not.
		{"a file of root's", func() error { os.Remove(mine); return os.Link(victim, mine) }},
		{"a link to root's file", func() error { os.Remove(mine); plant(t, mine, victim); return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			reset()
			afterWalk := func() {
				if err := c.swap(); err != nil {
					testkit.Require(t, false, "cannot swap: "+err.Error())
				}
			}
			f, err := OpenReadAsRoot(path, afterWalk)
			if c.name == "nothing swapped" {
				if err != nil {
					t.Fatalf("the user's own file: %v", err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatal("root opened through a user's link what the user swapped in")
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("error %v, want ErrUnsafe", err)
			}
			t.Log(err)
		})
	}
	// A path with no link at all when looked at: a link swapped in before
	// the open is refused too, not followed.
	plain := filepath.Join(home, "plain.json")
	os.WriteFile(plain, []byte("{}"), 0o600)
	os.Chown(plain, nobody, nobody)
	afterWalk := func() { os.Remove(plain); plant(t, plain, victim) }
	if f, err := OpenReadAsRoot(plain, afterWalk); err == nil {
		f.Close()
		t.Error("root followed a link swapped in on a path that had none")
	} else if !errors.Is(err, ErrUnsafe) {
		t.Errorf("error %v, want ErrUnsafe", err)
	}
}
