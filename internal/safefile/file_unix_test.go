//go:build unix

package safefile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFolderNoLinkFollowed: through an open folder, a file is created 0600
// whatever the umask and never at a name a link holds; a new name is put
// in place only when free; a folder on the way that is a link is refused,
// not crossed, and nothing is created through it.
func TestFolderNoLinkFollowed(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.Symlink(victim, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenFolder(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	for _, c := range []struct {
		name    string
		wantErr error
	}{{"new", nil}, {"link", fs.ErrExist}} {
		f, err := d.Create(c.name)
		if !errors.Is(err, c.wantErr) {
			t.Fatalf("Create(%s): %v, want %v", c.name, err, c.wantErr)
		}
		if err != nil {
			continue
		}
		fi, _ := f.Stat()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("Create(%s): mode %#o, want 0600", c.name, fi.Mode().Perm())
		}
		if !d.Holds(c.name, f) {
			t.Errorf("Holds(%s) is false for the file just created", c.name)
		}
		f.Close()
	}
	if _, err := os.Lstat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("created through the link: %v", err)
	}
	if f, err := d.Open("link"); f != nil || !IsLoop(err) {
		t.Errorf("Open of a link: %v %v, want ELOOP", f, err)
	}
	if d.IsRegular("link") {
		t.Error("IsRegular is true for a link")
	}

	os.WriteFile(filepath.Join(dir, "taken"), []byte("keep"), 0o600)
	if err := d.RenameNew("new", "taken"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("RenameNew over a file: %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "taken")); string(data) != "keep" {
		t.Errorf("RenameNew changed the file in place: %q", data)
	}
	if err := d.RenameNew("new", "free"); err != nil {
		t.Errorf("RenameNew to a free name: %v", err)
	}
	if !d.IsRegular("free") || d.IsRegular("new") {
		t.Error("RenameNew left the old name or made no new one")
	}
	if err := d.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}

	os.Symlink(outside, filepath.Join(dir, "cfg"))
	if err := MkdirAll(filepath.Join(dir, "cfg", "new", "deeper")); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "replaced by a link") {
		t.Errorf("MkdirAll through a link: %v, want ErrUnsafe", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("created through the link: %v", entries)
	}
	if err := MkdirAll(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("MkdirAll: %v %v, want a folder 0700", fi, err)
	}
}

// TestReadsStayOutOfThePoller: a regular file opened for reading (by path,
// not following a link, or in a folder) is handed over blocking, so that
// os.NewFile keeps it out of the runtime's poller (which would set itself
// up for it, then refuse it); a FIFO still opens at once, with no writer,
// and stays non-blocking, so that nothing waits on it.
func TestReadsStayOutOfThePoller(t *testing.T) {
	dir := t.TempDir()
	regular, fifo := filepath.Join(dir, "auth.json"), filepath.Join(dir, "fifo")
	os.WriteFile(regular, []byte("{}"), 0o600)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenFolder(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	nonBlocking := func(f *os.File) bool {
		t.Helper()
		rc, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if err != nil {
			t.Fatal(err)
		}
		return flags&unix.O_NONBLOCK != 0
	}
	for _, open := range []struct {
		name string
		open func(path string) (*os.File, error)
	}{
		{"OpenRead", OpenRead},
		{"OpenNoFollow", OpenNoFollow},
		{"Folder.Open", func(path string) (*os.File, error) { return d.Open(filepath.Base(path)) }},
	} {
		for _, c := range []struct {
			path        string
			nonBlocking bool
		}{{regular, false}, {fifo, true}} {
			done := make(chan struct{})
			timer := time.AfterFunc(time.Minute, func() {
				select {
				case <-done:
				default:
					panic(open.name + " blocked on a FIFO")
				}
			})
			f, err := open.open(c.path)
			close(done)
			timer.Stop()
			if err != nil {
				t.Fatalf("%s(%s): %v", open.name, c.path, err)
			}
			if got := nonBlocking(f); got != c.nonBlocking {
				t.Errorf("%s(%s): non-blocking %v, want %v", open.name, filepath.Base(c.path), got, c.nonBlocking)
			}
			if c.path == regular {
				if data, err := io.ReadAll(f); err != nil || string(data) != "{}" {
					t.Errorf("%s: read %q, %v", open.name, data, err)
				}
			}
			f.Close()
		}
	}
	if _, err := OpenRead(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) || err.Error() != "open "+filepath.Join(dir, "missing")+": no such file or directory" {
		t.Errorf("OpenRead of no file: %v, want os.Open's error", err)
	}
}

// TestFolderOpenFileLinkLstat: OpenFile, Link and Lstat act in the folder
// opened, never through a link at the name, and fail as os.OpenFile,
// os.Link and os.Lstat do (fs.ErrExist, fs.ErrNotExist, a loop, named by
// the file's path); Lstat describes a link as a link, a file it may not
// open too, as os.Lstat would (os.SameFile agrees), and keeps describing
// the folder opened once its path leads elsewhere.
func TestFolderOpenFileLinkLstat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	outside := t.TempDir()
	os.Mkdir(dir, 0o700)
	victim := filepath.Join(outside, "victim")
	os.Symlink(victim, filepath.Join(dir, "link"))
	d, err := OpenFolder(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	for _, c := range []struct {
		name    string
		flag    int
		wantErr func(error) bool
	}{
		{"new", os.O_RDWR | os.O_CREATE | os.O_EXCL, func(err error) bool { return err == nil }},
		{"new", os.O_RDWR | os.O_CREATE | os.O_EXCL, func(err error) bool { return errors.Is(err, fs.ErrExist) }},
		{"link", os.O_RDWR | os.O_CREATE | os.O_EXCL, func(err error) bool { return errors.Is(err, fs.ErrExist) }},
		{"link", os.O_RDWR | ONonBlock, IsLoop},
		{"absent", os.O_RDONLY, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
	} {
		f, err := d.OpenFile(c.name, c.flag, 0o600)
		if !c.wantErr(err) {
			t.Errorf("OpenFile(%s, %#x): %v", c.name, c.flag, err)
		}
		if err != nil {
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, c.name) || pe.Op != "open" {
				t.Errorf("OpenFile(%s): error %#v, want os.OpenFile's", c.name, err)
			}
			continue
		}
		f.Close()
	}
	if _, err := os.Lstat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("created through the link: %v", err)
	}
	if err := d.Link("new", "link"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Link over a link: %v, want fs.ErrExist", err)
	}
	var le *os.LinkError
	if err := d.Link("absent", "other"); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &le) || le.Old != filepath.Join(dir, "absent") || le.New != filepath.Join(dir, "other") {
		t.Errorf("Link of nothing: %#v, want os.Link's fs.ErrNotExist", err)
	}
	if err := d.Link("new", "second"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "new"), 0) // root may still open it: Lstat needs no open
	a, errA := d.Lstat("new")
	b, errB := os.Lstat(filepath.Join(dir, "second"))
	if errA != nil || errB != nil || !os.SameFile(a, b) || !a.Mode().IsRegular() {
		t.Errorf("Lstat of a file: %v %v, %v; want the file os.Lstat sees", a, errA, errB)
	}
	if fi, err := d.Lstat("link"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of a link: %v %v, want the link itself", fi, err)
	}
	if _, err := d.Lstat("absent"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat of nothing: %v, want fs.ErrNotExist", err)
	}
	// The folder's path swapped for a link elsewhere: still the folder opened.
	os.Rename(dir, dir+".away")
	os.Symlink(outside, dir)
	if fi, err := d.Lstat("new"); err != nil || !os.SameFile(fi, b) {
		t.Errorf("Lstat after the swap: %v %v, want the file in the folder opened", fi, err)
	}
	if f, err := d.OpenFile("clock", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
		t.Errorf("OpenFile after the swap: %v", err)
	} else {
		f.Close()
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("created through the swapped folder: %v", entries)
	}
}

// TestTempFilePrivateFromCreation checks that the file a change is written
// to is 0600 the moment it exists, whatever the umask.
func TestTempFilePrivateFromCreation(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	target := filepath.Join(t.TempDir(), "auth.json")
	d, err := OpenFolder(filepath.Dir(target), false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, _, err := d.CreateTemp(target)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new temporary file has mode %#o, want 0600", fi.Mode().Perm())
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), ".auth.json.tmp-") || filepath.Dir(f.Name()) != filepath.Dir(target) {
		t.Errorf("temporary file %s is not beside %s with the stale-file prefix", f.Name(), target)
	}
}
