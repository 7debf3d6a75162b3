//go:build unix

package renewal

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// nobody is the user whose folder root renews in.
const nobody = 65534

// TestRootNoteInTheFolderLocked: root holds the renewal lock of a session
// file in a folder of a user's, who then swaps that folder for a link to a
// folder of root's (empty, or holding root's own note). The note root
// records is read, written (temporary file, rename) and removed in the
// folder it locked, now renamed away, and given to the user; root's folder
// and note are left as they were.
func TestRootNoteInTheFolderLocked(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	for _, withNote := range []bool{false, true} {
		name := "root's folder empty"
		if withNote {
			name = "root's note there"
		}
		t.Run(name, func(t *testing.T) { testRootNote(t, withNote) })
	}
}

func testRootNote(t *testing.T, withNote bool) {
	dir := t.TempDir()
	home, away, system := filepath.Join(dir, "cryosparc"), filepath.Join(dir, "renamed"), filepath.Join(dir, "system")
	os.Mkdir(home, 0o700)
	os.Chown(home, nobody, nobody)
	os.Mkdir(system, 0o700)
	path := filepath.Join(home, "auth.json")
	os.WriteFile(path, []byte("{}"), 0o600)
	os.Chown(path, nobody, nobody)
	// Root's own note, with an entry the user's must never show.
	rootNote := filepath.Join(system, "auth.json.renew.note")
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	mine := `{"version":1,"entries":[{"state":"refused","url":"https://cs.example.com","email":"root@x","at":"` + at.UTC().Format(time.RFC3339Nano) + `","host":"admin","pid":1}]}` + "\n"
	if withNote {
		os.WriteFile(rootNote, []byte(mine), 0o600)
	}

	r, err := Take(path, options(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(home, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(system, home); err != nil {
		t.Fatal(err)
	}
	os.Lchown(home, nobody, nobody)

	if _, ok, err := r.Last("https://cs.example.com", "root@x"); ok || err != nil {
		t.Errorf("Last under the lock read root's note through the link: %v, %v", ok, err)
	}
	if err := r.Record("https://cs.example.com", "ali@x", &Outcome{Refused: true, At: at, Host: "node7", PID: 42}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	note := filepath.Join(away, "auth.json.renew.note")
	fi, err := os.Lstat(note)
	if err != nil {
		t.Fatalf("the note is not in the folder locked: %v", err)
	}
	if uid, _, _ := safefile.Owner(fi); uid != nobody {
		t.Errorf("the note belongs to %d, want %d", uid, nobody)
	}
	if got, ok, err := r.Last("https://cs.example.com", "ali@x"); !ok || err != nil || !got.Refused || got.By() != "process 42 on node7" {
		t.Errorf("Last under the lock: %+v, %v, %v; want the outcome recorded", got, ok, err)
	}
	if err := r.Record("https://cs.example.com", "ali@x", nil); err != nil {
		t.Fatalf("Record of nothing: %v", err)
	}
	if _, err := os.Lstat(note); !os.IsNotExist(err) {
		t.Errorf("the emptied note stays in the folder locked: %v", err)
	}
	r.Unlock()
	var names []string
	entries, _ := os.ReadDir(system)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if withNote && (len(names) != 1 || names[0] != "auth.json.renew.note") || !withNote && len(names) != 0 {
		t.Errorf("root's folder holds %v, want only what it held", names)
	}
	if data, _ := os.ReadFile(rootNote); withNote && string(data) != mine {
		t.Errorf("root's note changed: %q", data)
	}
	left, _ := os.ReadDir(away)
	for _, e := range left {
		if n := e.Name(); n != "auth.json" && n != "auth.json.renew.lock" {
			t.Errorf("left in the folder locked after Unlock: %s", n)
		}
	}
}
