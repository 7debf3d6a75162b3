//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OpenReadAsRoot opens path for reading as root does: through no link a
// user planted toward what that user does not own, the rule writes follow
// (see rootMayFollow), so that a user's auth.json linked to a file of
// root's never shows root that file's token. The path is resolved as the
// kernel would, then what it resolved to is opened one folder at a time
// without following a link, so that a link swapped in meanwhile (on a path
// that had none, too) is refused rather than followed; and the file opened
// must belong to the owner of every user's link on the way. afterWalk, when
// not nil, runs between the look at the path and the open: tests change
// what the path leads to there.
func OpenReadAsRoot(path string, afterWalk func()) (*os.File, error) {
	notExist := &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	target, owners, err := walkLinks(path)
	switch {
	case errors.Is(err, ErrDangling):
		return nil, notExist // as open(2) finds it
	case err != nil:
		return nil, err
	case len(owners) > 0:
		if err := rootMayFollow(path, target, owners); err != nil {
			return nil, err
		}
	}
	if afterWalk != nil {
		afterWalk()
	}
	d, err := OpenFolder(filepath.Dir(target), false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notExist
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	f, err := d.Open(filepath.Base(target))
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("%w: %s was replaced by a link while it was read; nothing was read, check the file and try again", ErrUnsafe, printable(path))
	case err != nil:
		return nil, err
	case f == nil:
		return nil, notExist
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if uid, _, ok := Owner(fi); ok {
		for _, o := range owners {
			if o != uid {
				f.Close()
				return nil, fmt.Errorf("%w: %s leads through a link owned by user %d to a file owned by user %d; as root, a user's link is followed only to what that user owns: remove the link, or run as that user", ErrUnsafe, printable(path), o, uid)
			}
		}
	}
	return f, nil
}
