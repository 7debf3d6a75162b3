//go:build unix

package lockfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// nobody is the user whose folder root takes the lock in.
const nobody = 65534

// swapFolder replaces the folder home with a link, as its owner nobody
// would make, to the folder system: home itself is renamed to away.
func swapFolder(t *testing.T, home, away, system string) {
	t.Helper()
	if err := os.Rename(home, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(system, home); err != nil {
		t.Fatal(err)
	}
	os.Lchown(home, nobody, nobody)
}

// names lists the folder dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestRootLocksInTheFolderOpened: root takes the lock on a session file in
// a folder of a user's, who swaps that folder for a link to a folder of
// root's right after Take opened it (Options.AfterOpen), before any lock
// file is looked at. Every lock file (the flock file, the held file, the
// holder's own file linked to it, and, breaking a stale holder's, the
// break lock and the file that reads the file system's clock) is created,
// read and removed in the folder opened, now renamed away, and given to
// its owner; nothing is created in root's folder. With the folder opened
// by the caller (Options.Folder) too.
func TestRootLocksInTheFolderOpened(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	for _, c := range []struct {
		name    string
		flock   func(*os.File) error
		session bool // a session file of nobody's, else none (the folder's owner rule)
		stale   bool // a stale holder's lock file to break first
		given   bool // the caller opens the folder
	}{
		{name: "flock, new file", flock: nil},
		{name: "flock, session file", flock: nil, session: true},
		{name: "flock refused", flock: refused(syscall.ENOLCK), session: true},
		{name: "a stale holder broken", flock: refused(syscall.ENOSYS), session: true, stale: true},
		{name: "folder given by the caller", flock: nil, given: true, stale: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			home, away, system := filepath.Join(dir, "cryosparc"), filepath.Join(dir, "renamed"), filepath.Join(dir, "system")
			if err := os.Mkdir(home, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chown(home, nobody, nobody)
			if err := os.Mkdir(system, 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(home, "auth.json")
			var ref fs.FileInfo
			if c.session {
				os.WriteFile(target, []byte("{}"), 0o600)
				os.Chown(target, nobody, nobody)
				ref, _ = os.Lstat(target)
			}
			var stale holder
			if c.stale {
				stale = plantHeld(t, target, "another-boot/1", time.Now().Add(-time.Hour))
				os.Chown(heldPath(target), nobody, nobody)
			}
			swapped := false
			opt := Options{Flock: c.flock, AfterOpen: func() { swapFolder(t, home, away, system); swapped = true }}
			if c.given {
				opt.Folder = openFolder(t, target)
			}
			l, err := Take(target, opt, ref)
			if !swapped {
				t.Fatal("AfterOpen did not run")
			}
			if err != nil {
				t.Fatalf("Take in the folder opened: %v", err)
			}
			if n := names(t, system); len(n) != 0 {
				t.Errorf("created in root's folder, through the link: %v", n)
			}
			held := filepath.Join(away, "auth.json.lock.held")
			data, err := os.ReadFile(held)
			if err != nil || !strings.HasPrefix(string(data), "pid=") || strings.Contains(string(data), "nonce="+stale.nonce+"\n") && c.stale {
				t.Errorf("the held file in the folder opened: %q, %v; want this holder's", data, err)
			}
			want := []string{held}
			if c.flock == nil {
				want = append(want, filepath.Join(away, "auth.json.lock"))
			}
			for _, p := range want {
				fi, err := os.Lstat(p)
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				if uid, _, _ := safefile.Owner(fi); uid != nobody {
					t.Errorf("%s belongs to %d, want %d (the folder's or the session file's owner)", p, uid, nobody)
				}
			}
			l.Unlock()
			if n := names(t, system); len(n) != 0 {
				t.Errorf("created in root's folder, through the link: %v", n)
			}
			for _, n := range names(t, away) {
				if n != "auth.json" && n != "auth.json.lock" {
					t.Errorf("left in the folder after Unlock: %s", n)
				}
			}
			if c.given {
				// The caller's folder stays open: Unlock closes only its own.
				if _, err := opt.Folder.Names(); err != nil {
					t.Errorf("the caller's folder was closed: %v", err)
				}
			}
		})
	}
}

// TestRootRefusesPlantedLockFiles: a link or a FIFO a user planted at a
// lock file's name, in the folder opened, is refused as before, with how
// to clear it, and nothing is created where the link leads.
func TestRootRefusesPlantedLockFiles(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	for _, c := range []struct {
		name  string
		at    func(string) string
		plant func(t *testing.T, at, victim string) error
		want  string
	}{
		{"flock file linked", lockPath, func(_ *testing.T, at, victim string) error { return os.Symlink(victim, at) }, "is a symbolic link, which is never followed"},
		{"flock file a FIFO", lockPath, func(_ *testing.T, at, _ string) error { return syscall.Mkfifo(at, 0o600) }, "is not a regular file (a FIFO)"},
		{"held file linked", heldPath, func(_ *testing.T, at, victim string) error { return os.Symlink(victim, at) }, "is a symbolic link, which is never followed"},
		{"held file a FIFO", heldPath, func(_ *testing.T, at, _ string) error { return syscall.Mkfifo(at, 0o600) }, "is not a regular file (a FIFO)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			home, system := filepath.Join(dir, "cryosparc"), filepath.Join(dir, "system")
			os.Mkdir(home, 0o700)
			os.Chown(home, nobody, nobody)
			os.Mkdir(system, 0o700)
			target := filepath.Join(home, "auth.json")
			victim := filepath.Join(system, "absent")
			if err := c.plant(t, c.at(target), victim); err != nil {
				t.Fatal(err)
			}
			os.Lchown(c.at(target), nobody, nobody)
			l, err := Take(target, Options{Flock: refused(syscall.ENOLCK)}, nil)
			if err == nil {
				l.Unlock()
			}
			if !errors.Is(err, safefile.ErrUnsafe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "rm "+c.at(target)) {
				t.Errorf("Take: %v; want ErrUnsafe, %q and how to clear it", err, c.want)
			}
			if n := names(t, system); len(n) != 0 {
				t.Errorf("created where the link leads: %v", n)
			}
		})
	}
}
