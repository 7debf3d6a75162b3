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
