// Package safefile opens, creates, renames and removes files without
// following links an attacker could plant: through an open folder with the
// *at system calls where there are (Unix), by path elsewhere. It knows
// nothing of sessions; store builds its atomic replace and its lock on it.
package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// ErrUnsafe: the file or its folder cannot be read or written safely.
// store.ErrUnsafe is this error.
var ErrUnsafe = errkind.New(errkind.File, "session file cannot be accessed safely")

// IsWindows reports whether files here have no Unix owner and mode.
func IsWindows() bool { return runtime.GOOS == "windows" }

// Kind names what a file that is not a regular file is, for a message.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// TempPrefix starts the names of new files being written beside target; a
// file with this prefix found while the writer lock is held was left by a
// writer that died.
func TempPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

// MkdirAll creates dir and the folders above it that are missing, 0700,
// as mkdir -p does, following no link on the way (see OpenFolder). Run as
// root, each new folder gets the owner of the folder above it, so that an
// administrator creating a user's file leaves it the user's.
func MkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	d, err := OpenFolder(dir, true)
	if err != nil {
		return err
	}
	d.Close()
	return nil
}

// RemoveStaleTemps removes what writers that died left beside target (the
// names TempPrefix starts): the names only, a link is removed, never what
// it points to. Call it only while holding the lock those writers took.
func RemoveStaleTemps(target string) {
	d, err := OpenFolder(filepath.Dir(target), false)
	if err != nil {
		return
	}
	defer d.Close()
	names, err := d.Names()
	if err != nil {
		return // nothing listed, nothing removed: the next holder tries again
	}
	prefix := TempPrefix(target)
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			d.Remove(name)
		}
	}
}
