// Package safefile opens, creates, renames and removes files without
// following links an attacker could plant: through an open folder with the
// *at system calls where there are (Unix), by path elsewhere. It knows
// nothing of sessions; store builds its atomic replace and its lock on it.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
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

// PrivateTo reports whether fi may be believed as a file of the user that
// owner gives (false: none): a regular file, private to that user, who
// owns it (on Windows, any regular file).
func PrivateTo(fi fs.FileInfo, owner func() (uid int, ok bool)) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	if IsWindows() {
		return true
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return false
	}
	u1, _, ok1 := Owner(fi)
	u2, ok2 := owner()
	return ok1 && ok2 && u1 == u2
}

// CreateTemp creates, in the folder d, the file that will replace target:
// named TempPrefix(target) and random letters that hold no secret, 0600
// from the start, never through a link (see Create).
func (d *Folder) CreateTemp(target string) (*os.File, string, error) {
	var b [8]byte
	for try := 0; ; try++ {
		rand.Read(b[:])
		name := TempPrefix(target) + hex.EncodeToString(b[:])
		f, err := d.Create(name)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			return f, name, err
		}
	}
}

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
