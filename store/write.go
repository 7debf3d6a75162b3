package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// existing returns what is at target (nil when nothing is), refusing what
// this program must not replace: not a regular file, too large, or a file
// whose owner may not write it (cryosparc-tools fails on it too).
func existing(target string) (fs.FileInfo, error) {
	fi, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	if err := checkRegular(target, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o200 == 0 && !isWindows() {
		return nil, fmt.Errorf("%w: %s is read-only (mode %#o), so it is not changed (cryosparc-tools cannot write it either); chmod u+w it if it should change", ErrUnsafe, printable(target), fi.Mode().Perm())
	}
	return fi, nil
}

// Update changes the session file at path under an exclusive lock: it reads
// the file, calls change, and when change returns nil writes the result
// atomically (a new file in the same folder, flushed to disk, renamed over
// the old one, with the old one's owner and group; a symlink stays a
// symlink and its target is replaced). A file being written by another
// program is waited for as Load does, and never replaced while it is. A
// file that cryosparc-tools would reject is never rewritten: Update returns
// its *InvalidError and leaves it as it is; when the file does not look
// like a session file at all, nothing is created beside it either (no lock
// file). If change reports nothing to write (ErrNoChange), the file is left
// untouched.
func Update(path string, opt *Options, change func(*Sessions) error) error {
	target, unlock, err := lockTarget(path, opt)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := Load(target, opt)
	if err != nil {
		return err
	}
	fi, err := existing(target)
	if err != nil {
		return err
	}
	if err := change(s); err != nil {
		if errors.Is(err, ErrNoChange) {
			return nil
		}
		return err
	}
	return writeAtomic(target, s.Marshal(), fi)
}

// mkdirAll creates dir and the folders above it that are missing, 0700.
// Run as root, each new folder gets the owner of the folder above it, so
// that an administrator creating a user's file leaves it the user's.
func mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: creating %s: %w", ErrUnsafe, printable(dir), err)
	}
	if os.Geteuid() == 0 {
		if pi, err := os.Stat(parent); err == nil {
			if uid, gid, ok := owner(pi); ok {
				os.Lchown(dir, uid, gid)
			}
		}
	}
	return nil
}

// Save replaces the file at path with s, under the lock, atomically, as
// cryosparc-tools' save() would write it. Whatever the file held is lost,
// including changes other processes made since s was loaded: to change the
// file, use Update. Like Update, Save refuses to overwrite a file that
// cryosparc-tools would reject.
func Save(path string, opt *Options, s *Sessions) error {
	return Update(path, opt, func(current *Sessions) error {
		*current = *s
		return nil
	})
}

// ErrNoChange is what an Update's change function returns to leave the file
// untouched.
var ErrNoChange = errors.New("nothing to change")

// tempPrefix starts the names of new files being written; a file with this
// prefix found while the lock is held was left by a writer that died.
func tempPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

func removeStaleTemps(target string) {
	dir := filepath.Dir(target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(target)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// newTemp creates the file that will replace target: in the same folder,
// with a random name that holds no secret, mode 0600 from the start.
func newTemp(target string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(target), tempPrefix(target))
}

// writeAtomic replaces target with data: a new 0600 file in the same folder,
// written, flushed to disk, renamed over target, and the folder flushed.
// The new file gets the owner and group of old, the file it replaces; a new
// file created by root gets those of its folder. When they cannot be kept,
// nothing is replaced.
func writeAtomic(target string, data []byte, old fs.FileInfo) error {
	dir := filepath.Dir(target)
	f, err := newTemp(target)
	if err != nil {
		return fmt.Errorf("%w: creating a file in %s: %w", ErrUnsafe, printable(dir), err)
	}
	tmp := f.Name()
	fail := func(what string, err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, printable(tmp), err)
	}
	if err := f.Chmod(0o600); err != nil && !isWindows() {
		return fail("setting permissions of", err)
	}
	ref := old
	if ref == nil && os.Geteuid() == 0 {
		ref, _ = os.Stat(dir)
	}
	if ref != nil {
		if err := keepOwner(f, ref); err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("%w: %s belongs to another user or group, which a replacement written by this user would not keep (%w); run as its owner", ErrUnsafe, printable(target), err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fail("writing", err)
	}
	if err := f.Sync(); err != nil {
		return fail("flushing", err)
	}
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: replacing %s: %w", ErrUnsafe, printable(target), err)
	}
	syncDir(dir)
	return nil
}
