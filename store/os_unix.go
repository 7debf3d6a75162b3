//go:build unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// openRead opens path for reading without blocking: a FIFO at the path
// opens at once instead of waiting for a writer, and is then refused for
// not being a regular file.
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// openNoFollow opens path for reading when it names no link, without
// blocking on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// owner returns the user and group that own the file fi describes.
func owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// keepOwner gives f the owner and group uid and gid, when they differ
// from f's: a file replaced by root (sudo, an admin script) stays the
// user's.
func keepOwner(f *os.File, uid, gid int) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if u, g, ok := owner(fi); ok && u == uid && g == gid {
		return nil
	}
	return f.Chown(uid, gid)
}

// folder is an open folder: every file created, renamed or removed
// through it is in that folder, whatever becomes of the path that led to
// it meanwhile (a folder on the way swapped for a link cannot redirect
// it), and no link is followed in it.
type folder struct {
	fd   int
	path string // for messages
}

// walkFlags open a folder on the way to another one: with O_PATH where
// there is one, so that a folder this user may cross but not list (a
// 0711 /home) can be crossed.
const walkFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | pathOnly

// openFolder opens dir, which names no link (resolve made it so), one
// folder at a time without following links: a folder on the way that has
// become a link since is refused, not followed. With create, folders that
// are missing are created, 0700, as `mkdir -p` would; run as root, each
// gets the owner and group of the folder it is created in.
func openFolder(dir string, create bool) (*folder, error) {
	start := "."
	if strings.HasPrefix(dir, "/") {
		start = "/"
	}
	fd, err := unix.Open(start, walkFlags, 0)
	if err != nil {
		return nil, folderError(dir, "opening", err)
	}
	for _, c := range strings.Split(dir, "/") {
		if c == "" || c == "." {
			continue
		}
		next, err := unix.Openat(fd, c, walkFlags, 0)
		if errors.Is(err, unix.ENOENT) && create && c != ".." {
			next, err = makeFolder(fd, c)
		}
		unix.Close(fd)
		if err != nil {
			return nil, folderError(dir, "opening", err)
		}
		fd = next
	}
	// The folder itself is opened for reading: to list it and to flush it.
	d, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	unix.Close(fd)
	if err != nil {
		return nil, folderError(dir, "opening", err)
	}
	return &folder{fd: d, path: dir}, nil
}

// makeFolder creates the folder name in the folder at fd and opens it.
func makeFolder(fd int, name string) (int, error) {
	if err := unix.Mkdirat(fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	if os.Geteuid() == 0 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return -1, err
		}
		// By name, not following a link: if the folder was swapped for
		// one, the link changes owner, not what it points to. Left root's,
		// the folder would keep its user out: an error.
		if err := unix.Fchownat(fd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return -1, &fs.PathError{Op: "chown", Path: name, Err: err}
		}
	}
	return unix.Openat(fd, name, walkFlags, 0)
}

func folderError(dir, what string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%w: a folder on the way to %s was replaced by a link or a file while it was in use; nothing was changed, check the folder and try again", ErrUnsafe, printable(dir))
	}
	return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, printable(dir), err)
}

func (d *folder) close() { unix.Close(d.fd) }

// owner returns the user and group that own the folder.
func (d *folder) owner() (uid, gid int, ok bool) {
	var st unix.Stat_t
	if unix.Fstat(d.fd, &st) != nil {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// create creates the file name in the folder, 0600, failing with
// fs.ErrExist when anything has that name, a link included.
func (d *folder) create(name string) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: d.path + "/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), d.path+"/"+name), nil
}

// open opens the file name in the folder for reading, without following
// a link and without blocking on a FIFO; nil when there is none.
func (d *folder) open(name string) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.path + "/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), d.path+"/"+name), nil
}

// rename renames from to to in the folder, replacing what to names.
func (d *folder) rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return &fs.PathError{Op: "rename", Path: d.path + "/" + to, Err: err}
	}
	return nil
}

// renameNew renames from to to in the folder unless to exists, in which
// case it fails with fs.ErrExist and changes nothing: as a hard link
// (atomic on every file system that has them, NFS included), else, where
// there are none, by a plain rename.
func (d *folder) renameNew(from, to string) error {
	err := unix.Linkat(d.fd, from, d.fd, to, 0)
	switch {
	case err == nil:
		// The new name is in place; the temporary one, if it stays, is
		// removed by the next writer (removeStaleTemps).
		_ = unix.Unlinkat(d.fd, from, 0)
		return nil
	case errors.Is(err, unix.EEXIST):
		return &fs.PathError{Op: "link", Path: d.path + "/" + to, Err: err}
	}
	return d.rename(from, to)
}

// remove removes the file name from the folder (a link itself, never what
// it points to).
func (d *folder) remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.path + "/" + name, Err: err}
	}
	return nil
}

// names lists the folder.
func (d *folder) names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// lstat describes the file name in the folder, not following a link.
func (d *folder) lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// isRegular reports whether name in the folder is a regular file (not a
// link to one).
func (d *folder) isRegular(name string) bool {
	st, err := d.lstat(name)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// sync flushes the folder's entries to disk, so that a rename survives a
// crash.
func (d *folder) sync() error {
	if err := unix.Fsync(d.fd); err != nil {
		return &fs.PathError{Op: "fsync", Path: d.path, Err: err}
	}
	return nil
}

// holds reports whether name in the folder is still the file f has open:
// another writer may have renamed a file over it.
func (d *folder) holds(name string, f *os.File) bool {
	st, err := d.lstat(name)
	if err != nil {
		return false
	}
	var open unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &open); err != nil {
		return false
	}
	return st.Dev == open.Dev && st.Ino == open.Ino
}

// dupFile returns a second descriptor of the file f has open.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// afterRootWalk runs between openReadAsRoot's look at the path and its
// open: a seam where a test changes what the path leads to.
var afterRootWalk = func() {}

// openReadAsRoot opens path for reading as root does: through no link a
// user planted toward what that user does not own, the rule writes follow
// (see rootMayFollow), so that a user's auth.json linked to a file of
// root's never shows root that file's token. The path is resolved as the
// kernel would, then what it resolved to is opened one folder at a time
// without following a link, so that a link swapped in meanwhile (on a path
// that had none, too) is refused rather than followed; and the file opened
// must belong to the owner of every user's link on the way.
func openReadAsRoot(path string) (*os.File, error) {
	notExist := &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	target, owners, err := walkLinks(path)
	switch {
	case errors.Is(err, errDangling):
		return nil, notExist // as open(2) finds it
	case err != nil:
		return nil, err
	case len(owners) > 0:
		if err := rootMayFollow(path, target, owners); err != nil {
			return nil, err
		}
	}
	afterRootWalk()
	d, err := openFolder(filepath.Dir(target), false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notExist
	}
	if err != nil {
		return nil, err
	}
	defer d.close()
	f, err := d.open(filepath.Base(target))
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
	if uid, _, ok := owner(fi); ok {
		for _, o := range owners {
			if o != uid {
				f.Close()
				return nil, fmt.Errorf("%w: %s leads through a link owned by user %d to a file owned by user %d; as root, a user's link is followed only to what that user owns: remove the link, or run as that user", ErrUnsafe, printable(path), o, uid)
			}
		}
	}
	return f, nil
}
