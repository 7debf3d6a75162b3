//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	r, err := OpenReadFolderAsRoot(path, afterWalk)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open()
}

// ReadFolder is root's way to the file a path names, walked once: the
// folder that holds it, open, and what the walk found, so that the file
// and the files beside it are opened in that folder (openat, no link
// followed) with the checks OpenReadAsRoot makes, without walking the path
// again for each.
type ReadFolder struct {
	dir    *Folder
	path   string // as given, for messages
	target string // where path leads
	// owners are those of the users' links followed on the way; lastLink,
	// that path's own last name is a link.
	owners   []int
	lastLink bool
}

// OpenReadFolderAsRoot walks path as OpenReadAsRoot does (links resolved
// as the kernel would, root's rule for a user's link checked) and opens
// the folder of what it leads to, one folder at a time without following
// a link; it fails as OpenReadAsRoot would before the file's own open. A
// path that leads through a link to a folder that does not exist, or to a
// folder that does not exist, gives fs.ErrNotExist. afterWalk is
// OpenReadAsRoot's.
func OpenReadFolderAsRoot(path string, afterWalk func()) (*ReadFolder, error) {
	if r := openNoLinks(path, afterWalk); r != nil {
		return r, nil
	}
	notExist := &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	target, owners, lastLink, err := walkLinks(path)
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
	return &ReadFolder{dir: d, path: path, target: target, owners: owners, lastLink: lastLink}, nil
}

// openNoLinks is OpenReadFolderAsRoot of a path with no link on it, the
// usual case, in one pass: its folders opened from the first down, none
// followed if it is a link, and its last name looked at, not followed. A
// path with no link has no user's link to check. It is nil when anything
// stops it (a link, a name missing on the way, a name that is no folder,
// a path that ends in a folder, a ".." on the way): the walk that resolves
// links then finds out what, and says so as ever.
func openNoLinks(path string, afterWalk func()) *ReadFolder {
	names := strings.Split(path, "/")
	base := names[len(names)-1]
	if base == "" || base == "." || base == ".." {
		return nil
	}
	start := "."
	if strings.HasPrefix(path, "/") {
		start = "/"
	}
	fd, err := unix.Open(start, walkFlags, 0)
	if err != nil {
		return nil
	}
	for _, c := range names[:len(names)-1] {
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			// Opened as a step, ".." leads wherever the folder opened
			// last is now: a user who moves their folder between the
			// steps would lead root out of their tree with no link on
			// the way to check (found by an adversarial pass). The walk
			// that resolves links reads ".." from the path's text.
			unix.Close(fd)
			return nil
		}
		next, err := unix.Openat(fd, c, walkFlags, 0)
		unix.Close(fd)
		if err != nil {
			return nil
		}
		fd = next
	}
	var st unix.Stat_t
	if err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK || err != nil && !errors.Is(err, unix.ENOENT) {
		unix.Close(fd)
		return nil
	}
	if afterWalk != nil {
		afterWalk()
	}
	return &ReadFolder{dir: &Folder{fd: fd, path: filepath.Dir(path)}, path: path, target: path}
}

// Close closes the folder; a nil ReadFolder has none.
func (r *ReadFolder) Close() {
	if r != nil {
		r.dir.Close()
	}
}

// Open opens the file the path leads to, in the folder, as OpenReadAsRoot
// does: no link followed (one swapped in since the walk is refused), and
// the file opened must belong to the owner of every user's link on the way;
// fs.ErrNotExist when there is none.
func (r *ReadFolder) Open() (*os.File, error) {
	f, err := r.dir.Open(filepath.Base(r.target))
	return checked(r.path, f, err, r.owners)
}

// FileOwner returns the user that owns the file the path leads to, in the
// folder (as stat(2) finds it); false when there is none.
func (r *ReadFolder) FileOwner() (uid int, ok bool) {
	var st unix.Stat_t
	if unix.Fstatat(r.dir.fd, filepath.Base(r.target), &st, 0) != nil {
		return 0, false
	}
	return int(st.Uid), true
}

// OpenBeside opens the file whose name is the file's own with suffix
// added, in the same folder, as OpenReadAsRoot(p) would, p being that
// name beside path, or beside what path leads to when path's last name is
// a link (p is returned, for messages): the owners of the users' links on
// the way to the folder must own it, and a link of that name is followed,
// or refused, as OpenReadAsRoot(p) does, by path.
func (r *ReadFolder) OpenBeside(suffix string) (*os.File, string, error) {
	p, owners := r.path+suffix, r.owners
	if r.lastLink {
		// Where the link leads, a path free of links.
		p, owners = r.target+suffix, nil
	}
	f, err := r.dir.Open(filepath.Base(r.target) + suffix)
	if errors.Is(err, unix.ELOOP) {
		// A link: followed, or not, by the rule for links, by path.
		f, err = OpenReadAsRoot(p, nil)
		return f, p, err
	}
	if len(owners) > 0 {
		// As OpenReadAsRoot(p) checks before it opens: the file, or the
		// folder when there is none, must be the links' owners'.
		if ferr := rootMayFollow(p, r.target+suffix, owners); ferr != nil {
			if f != nil {
				f.Close()
			}
			return nil, p, ferr
		}
	}
	f, err = checked(p, f, err, owners)
	return f, p, err
}

// checked is what the open of a file in the folder gave (f, err), by the
// path p for messages: refused when the name had become a link, and
// unless what was opened is owned by each of owners.
func checked(p string, f *os.File, err error, owners []int) (*os.File, error) {
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, fmt.Errorf("%w: %s was replaced by a link while it was read; nothing was read, check the file and try again", ErrUnsafe, printable(p))
	case err != nil:
		return nil, err
	case f == nil:
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	case len(owners) == 0:
		return f, nil // no user's link on the way: any owner
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
				return nil, fmt.Errorf("%w: %s leads through a link owned by user %d to a file owned by user %d; as root, a user's link is followed only to what that user owns: remove the link, or run as that user", ErrUnsafe, printable(p), o, uid)
			}
		}
	}
	return f, nil
}
