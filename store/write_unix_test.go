//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// userFolder returns a folder owned by nobody, as a user's home is, in a
// folder root made that others may cross, and a folder beside it standing
// for the rest of the system, holding a file of root's.
func userFolder(t *testing.T) (home, system, victim string) {
	t.Helper()
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	dir := crossableDir(t)
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

// checkSystem fails the test when anything outside the user's folder
// changed: the victim file, or what the system folder holds.
func checkSystem(t *testing.T, system, victim string) {
	t.Helper()
	if data, err := os.ReadFile(victim); err != nil || string(data) != "root:x:0:0\n" {
		t.Errorf("the file outside was changed: %q %v", data, err)
	}
	if entries, _ := os.ReadDir(system); len(entries) != 1 {
		t.Errorf("files created outside: %v", entries)
	}
}

// TestRootFollowsNoPlantedLink: root's changes to a user's session file go
// through no link the user planted beside it: a link with a temporary
// file's name is removed, not followed; backup names taken by links are
// skipped; the file root writes stays the user's.
func TestRootFollowsNoPlantedLink(t *testing.T) {
	home, system, victim := userFolder(t)
	path := filepath.Join(home, "auth.json")
	os.WriteFile(path, []byte("{}"), 0o600)
	os.Chown(path, nobody, nobody)
	plant(t, filepath.Join(home, ".auth.json.tmp-planted"), victim)
	plant(t, filepath.Join(home, ".auth.json.tmp-new"), filepath.Join(system, "created"))

	if err := Update(path, testOptions(t), insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatal(err)
	}
	checkSystem(t, system, victim)
	if _, err := os.Lstat(filepath.Join(home, ".auth.json.tmp-planted")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the planted temporary link is still there: %v", err)
	}

	// A file doctor --fix rewrites, whose first backup names are taken by
	// links to the file outside and to a file to be created there.
	bad := `{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00"}}}`
	os.WriteFile(path, []byte(bad), 0o600)
	stem := path + ".bak-" + fixedNow.Format(backupStamp)
	plant(t, stem, victim)
	plant(t, stem+"-2", filepath.Join(system, "created"))
	backup, err := Repair(path, testOptions(t), false)
	if err != nil {
		t.Fatal(err)
	}
	checkSystem(t, system, victim)
	if backup != stem+"-3" {
		t.Errorf("backup %s, want %s", backup, stem+"-3")
	}
	if data, _ := os.ReadFile(backup); string(data) != bad {
		t.Errorf("the backup holds %q", data)
	}
	for _, p := range []string{path, backup} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody || !fi.Mode().IsRegular() {
			t.Errorf("%s: owner %d, mode %s; want nobody's regular file", p, st.Uid, fi.Mode())
		}
	}
	if list, err := Backups(path); err != nil || len(list) != 1 || list[0] != backup {
		t.Errorf("Backups = %q, %v; want only %s, not the links", list, err, backup)
	}
}

// TestFolderSwappedForLink: a user who swaps the folder of the session
// file, or one above it, for a link while root is writing cannot lead
// root's writes elsewhere: what is written goes where the folder was
// found, and folders are not created through a link that appeared.
func TestFolderSwappedForLink(t *testing.T) {
	home, system, victim := userFolder(t)
	dir := filepath.Join(home, "cryosparc-tools")
	os.Mkdir(dir, 0o700)
	os.Chown(dir, nobody, nobody)
	path := filepath.Join(dir, "auth.json")
	err := Update(path, testOptions(t), func(s *Sessions) error {
		// After root's read, before its write.
		if err := os.Rename(dir, dir+".moved"); err != nil {
			t.Fatal(err)
		}
		plant(t, dir, system)
		return insertOne("https://x", "a@x", "t")(s)
	})
	if err != nil {
		t.Logf("Update: %v", err)
	}
	checkSystem(t, system, victim)
	if data, err := os.ReadFile(filepath.Join(dir+".moved", "auth.json")); err != nil || !strings.Contains(string(data), "a@x") {
		t.Errorf("the session was not written in the folder that was found: %q %v", data, err)
	}

	// A folder on the way that became a link after the path was resolved.
	plant(t, filepath.Join(home, "cfg"), system)
	if d, err := safefile.OpenFolder(filepath.Join(home, "cfg", "new", "deeper"), true); err == nil {
		d.Close()
		t.Error("openFolder created folders through a link")
	} else if !errors.Is(err, ErrUnsafe) {
		t.Errorf("openFolder: %v", err)
	}
	checkSystem(t, system, victim)
}

// TestRootFollowsNoPlantedSessionLink: as root, a session file or folder
// link that a user planted toward what the user does not own is not
// followed: nothing is created or changed there. A user's link into the
// user's own files is followed as ever.
func TestRootFollowsNoPlantedSessionLink(t *testing.T) {
	home, system, victim := userFolder(t)
	before, _ := os.ReadFile(victim)
	opt := testOptions(t)
	for _, c := range []struct{ name, link, target, file string }{
		{"auth.json to an existing file", "auth.json", victim, "auth.json"},
		{"auth.json to a new file", "new.json", filepath.Join(system, "nologin"), "new.json"},
		{"a folder", "cfg", system, "cfg/sub/auth.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plant(t, filepath.Join(home, c.link), c.target)
			err := Update(filepath.Join(home, c.file), opt, insertOne("https://x", "root@x", "t"))
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "link owned by user") {
				t.Errorf("root through a planted link: %v, want it refused", err)
			}
			entries, _ := os.ReadDir(system)
			if len(entries) != 1 {
				t.Errorf("root created beside the victim: %v", entries)
			}
			if after, _ := os.ReadFile(victim); string(after) != string(before) {
				t.Errorf("the victim changed")
			}
		})
	}
	// The user's own dotfiles: followed.
	own := filepath.Join(home, "dotfiles")
	os.Mkdir(own, 0o700)
	os.Chown(own, nobody, nobody)
	plant(t, filepath.Join(home, "mine.json"), filepath.Join(own, "auth.json"))
	if err := Update(filepath.Join(home, "mine.json"), opt, insertOne("https://x", "root@x", "t")); err != nil {
		t.Fatalf("root through the user's own link: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(home, "mine.json")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link")
	}
	if _, err := os.Stat(filepath.Join(own, "auth.json")); err != nil {
		t.Errorf("the user's own target was not written: %v", err)
	}
}

// TestRootReadsNoRecordThroughPlantedLink: as root, the record of recent
// writes is read by the rule the session file is: a user's link to a
// folder of root's (one a user can swap in for their own folder between
// root's read of their file and of the record) does not lead root to its
// own record, whose writes would otherwise be restored into the answer
// from the user's file.
func TestRootReadsNoRecordThroughPlantedLink(t *testing.T) {
	home, system, _ := userFolder(t)
	rootDir := filepath.Join(system, "cfg")
	if err := os.Mkdir(rootDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(rootDir, "auth.json")
	exp := time.Now().Add(24 * time.Hour)
	if err := Update(rootFile, &Options{}, put("https://cs.example.com", "root@x", "ROOT-TOKEN", exp)); err != nil {
		t.Fatal(err)
	}
	writes, exists, err := readRecent(rootFile, &Options{})
	if err != nil || !exists || len(writes) != 1 {
		t.Fatalf("root's own record: %v, %v, %d writes; want 1", err, exists, len(writes))
	}
	plant(t, filepath.Join(home, "swl"), rootDir)
	var warned []string
	opt := &Options{Warn: func(msg string) { warned = append(warned, msg) }}
	writes, _, err = readRecent(filepath.Join(home, "swl", "auth.json"), opt)
	if err != nil || len(writes) != 0 {
		t.Errorf("through the user's link: %v, %d writes (%v); want none", err, len(writes), writes)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "link owned by user") {
		t.Errorf("warnings %q; want one naming the user's link", warned)
	}
}
