//go:build unix

package store

import (
	"io/fs"
	"os"
	"syscall"
)

// openRead opens path for reading without blocking: a FIFO at the path
// opens at once instead of waiting for a writer, and is then refused for
// not being a regular file.
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// owner returns the user and group that own the file fi describes.
func owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// keepOwner gives f the owner and group of the file want describes, when
// they differ from f's: a file replaced by root (sudo, an admin script)
// stays the user's.
func keepOwner(f *os.File, want fs.FileInfo) error {
	uid, gid, ok := owner(want)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if u, g, ok := owner(fi); ok && u == uid && g == gid {
		return nil
	}
	return f.Chown(uid, gid)
}
