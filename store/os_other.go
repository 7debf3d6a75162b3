//go:build !unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func openRead(path string) (*os.File, error) { return os.Open(path) }

// openReadAsRoot is openRead: there is no root here.
func openReadAsRoot(path string) (*os.File, error) { return openRead(path) }

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func owner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

func keepOwner(*os.File, int, int) error { return nil }

// folder is a folder reached by its path: without the *at system calls,
// each operation resolves the path again.
type folder struct{ path string }

func openFolder(dir string, create bool) (*folder, error) {
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: creating %s: %w", ErrUnsafe, printable(dir), err)
		}
	}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a folder")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %w", ErrUnsafe, printable(dir), err)
	}
	return &folder{path: dir}, nil
}

func (d *folder) close() {}

func (d *folder) owner() (uid, gid int, ok bool) { return 0, 0, false }

func (d *folder) join(name string) string { return filepath.Join(d.path, name) }

func (d *folder) create(name string) (*os.File, error) {
	return os.OpenFile(d.join(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

func (d *folder) open(name string) (*os.File, error) {
	f, err := os.Open(d.join(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

func (d *folder) rename(from, to string) error { return os.Rename(d.join(from), d.join(to)) }

func (d *folder) renameNew(from, to string) error {
	if _, err := os.Lstat(d.join(to)); err == nil {
		return &fs.PathError{Op: "rename", Path: d.join(to), Err: fs.ErrExist}
	}
	return d.rename(from, to)
}

func (d *folder) remove(name string) error { return os.Remove(d.join(name)) }

func (d *folder) names() ([]string, error) {
	entries, err := os.ReadDir(d.path)
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out, err
}

func (d *folder) isRegular(name string) bool {
	fi, err := os.Lstat(d.join(name))
	return err == nil && fi.Mode().IsRegular()
}

// sync does nothing: a folder is not opened here, so it cannot be
// flushed.
func (d *folder) sync() error { return nil }

func (d *folder) holds(name string, f *os.File) bool {
	fi, err := os.Lstat(d.join(name))
	if err != nil {
		return false
	}
	open, err := f.Stat()
	return err == nil && os.SameFile(fi, open)
}

// dupFile returns a second handle of the file f has open, opened again by
// name.
func dupFile(f *os.File) (*os.File, error) { return os.Open(f.Name()) }
