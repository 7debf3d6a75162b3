//go:build !unix

package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// OpenRead opens path for reading.
func OpenRead(path string) (*os.File, error) { return os.Open(path) }

// OpenNoFollow opens path for reading: no link is refused here.
func OpenNoFollow(path string) (*os.File, error) { return os.Open(path) }

// Owner: files have no Unix owner here.
func Owner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// StatOwner: files have no Unix owner here.
func StatOwner(string) (uid int, ok bool) { return 0, false }

// KeepOwner does nothing: files have no Unix owner here.
func KeepOwner(*os.File, int, int) error { return nil }

// Folder is a folder reached by its path: without the *at system calls,
// each operation resolves the path again.
type Folder struct{ path string }

// OpenFolder checks that dir is a folder, creating it and the folders
// above it (0700) first with create.
func OpenFolder(dir string, create bool) (*Folder, error) {
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: creating %s: %w", ErrUnsafe, text.Safe(dir), err)
		}
	}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a folder")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %w", ErrUnsafe, text.Safe(dir), err)
	}
	return &Folder{path: dir}, nil
}

func (d *Folder) Close() {}

func (d *Folder) Owner() (uid, gid int, ok bool) { return 0, 0, false }

func (d *Folder) join(name string) string { return filepath.Join(d.path, name) }

func (d *Folder) Create(name string) (*os.File, error) {
	return os.OpenFile(d.join(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

func (d *Folder) Open(name string) (*os.File, error) {
	f, err := os.Open(d.join(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

func (d *Folder) Rename(from, to string) error { return os.Rename(d.join(from), d.join(to)) }

func (d *Folder) RenameNew(from, to string) error {
	if _, err := os.Lstat(d.join(to)); err == nil {
		return &fs.PathError{Op: "rename", Path: d.join(to), Err: fs.ErrExist}
	}
	return d.Rename(from, to)
}

func (d *Folder) Remove(name string) error { return os.Remove(d.join(name)) }

func (d *Folder) Names() ([]string, error) {
	entries, err := os.ReadDir(d.path)
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out, err
}

func (d *Folder) IsRegular(name string) bool {
	fi, err := os.Lstat(d.join(name))
	return err == nil && fi.Mode().IsRegular()
}

// sync does nothing: a folder is not opened here, so it cannot be
// flushed.
func (d *Folder) Sync() error { return nil }

func (d *Folder) Holds(name string, f *os.File) bool {
	fi, err := os.Lstat(d.join(name))
	if err != nil {
		return false
	}
	open, err := f.Stat()
	return err == nil && os.SameFile(fi, open)
}

// DupFile returns a second handle of the file f has open, opened again by
// name.
func DupFile(f *os.File) (*os.File, error) { return os.Open(f.Name()) }

// Path is the folder's path, for messages.
func (d *Folder) Path() string { return d.path }

// OpenFile opens the file name in the folder, by its path.
func (d *Folder) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(d.join(name), flag, perm)
}

// Link gives the file from in the folder the second name to.
func (d *Folder) Link(from, to string) error { return os.Link(d.join(from), d.join(to)) }

// Lstat describes the file name in the folder, by its path.
func (d *Folder) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(d.join(name)) }

// ONoFollow and ONonBlock are 0 here: there are no such flags.
const (
	ONoFollow = 0
	ONonBlock = 0
)

// IsLoop: no open is refused for a link here.
func IsLoop(error) bool { return false }
