//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// OpenRead opens path for reading without blocking: a FIFO at the path
// opens at once instead of waiting for a writer, and is then refused for
// not being a regular file.
func OpenRead(path string) (*os.File, error) {
	return openPath(path, 0)
}

// OpenNoFollow opens path for reading when it names no link, without
// blocking on a FIFO.
func OpenNoFollow(path string) (*os.File, error) {
	return openPath(path, unix.O_NOFOLLOW)
}

// openPath opens path for reading with flags, without blocking on a FIFO,
// failing as os.Open does.
func openPath(path string, flags int) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|flags, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return readFile(fd, path), nil
	}
}

// readFile makes fd, opened O_NONBLOCK for reading, an *os.File. A regular
// file is first made blocking, which changes nothing for it but keeps
// os.NewFile from registering it with the runtime's poller (which would
// refuse it, after setting itself up: epoll_create1, eventfd2 and two
// epoll_ctl in a command that needs none). Anything else keeps O_NONBLOCK
// (a FIFO is then refused by the caller, never waited on).
func readFile(fd int, name string) *os.File {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		// F_SETFL changes only the status flags (O_APPEND, O_NONBLOCK,
		// O_ASYNC, O_DIRECT, O_NOATIME), of which only O_NONBLOCK was set.
		// Should it fail, the file stays non-blocking, as before: harmless.
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, 0)
	}
	return os.NewFile(uintptr(fd), name)
}

// Owner returns the user and group that own the file fi describes.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// StatOwner returns the user that owns the file at path (stat(2), links
// followed); false when there is none.
func StatOwner(path string) (uid int, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	uid, _, ok = Owner(fi)
	return uid, ok
}

// KeepOwner gives f the owner and group uid and gid, when they differ
// from f's: a file replaced by root (sudo, an admin script) stays the
// user's.
func KeepOwner(f *os.File, uid, gid int) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if u, g, ok := Owner(fi); ok && u == uid && g == gid {
		return nil
	}
	return f.Chown(uid, gid)
}

// Folder is an open folder: every file created, renamed or removed
// through it is in that folder, whatever becomes of the path that led to
// it meanwhile (a folder on the way swapped for a link cannot redirect
// it), and no link is followed in it.
type Folder struct {
	fd   int
	path string // for messages
}

// walkFlags open a folder on the way to another one: with O_PATH where
// there is one, so that a folder this user may cross but not list (a
// 0711 /home) can be crossed.
const walkFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | pathOnly

// OpenFolder opens dir, which names no link (the caller resolved the
// links on its path: Resolve), one folder at a time without
// following links: a folder on the way that has become a link since is
// refused, not followed. With create, folders that are missing are
// created, 0700, as `mkdir -p` would; run as root, each gets the owner and
// group of the folder it is created in.
func OpenFolder(dir string, create bool) (*Folder, error) {
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
	return &Folder{fd: d, path: dir}, nil
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
		return fmt.Errorf("%w: a folder on the way to %s was replaced by a link or a file while it was in use; nothing was changed, check the folder and try again", ErrUnsafe, text.Safe(dir))
	}
	return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, text.Safe(dir), err)
}

// Close closes the folder.
func (d *Folder) Close() { unix.Close(d.fd) }

// Owner returns the user and group that own the folder.
func (d *Folder) Owner() (uid, gid int, ok bool) {
	var st unix.Stat_t
	if unix.Fstat(d.fd, &st) != nil {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// Create creates the file name in the folder, 0600, failing with
// fs.ErrExist when anything has that name, a link included.
func (d *Folder) Create(name string) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: d.path + "/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), d.path+"/"+name), nil
}

// Open opens the file name in the folder for reading, without following
// a link and without blocking on a FIFO; nil when there is none.
func (d *Folder) Open(name string) (*os.File, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: d.path + "/" + name, Err: err}
	}
	return readFile(fd, d.path+"/"+name), nil
}

// Rename renames from to to in the folder, replacing what to names.
func (d *Folder) Rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return &fs.PathError{Op: "rename", Path: d.path + "/" + to, Err: err}
	}
	return nil
}

// RenameNew renames from to to in the folder unless to exists, in which
// case it fails with fs.ErrExist and changes nothing: as a hard link
// (atomic on every file system that has them, NFS included), else, where
// there are none, by a plain rename.
func (d *Folder) RenameNew(from, to string) error {
	err := unix.Linkat(d.fd, from, d.fd, to, 0)
	switch {
	case err == nil:
		// The new name is in place; the temporary one, if it stays, is
		// removed by the next writer (store's removeStaleTemps).
		_ = unix.Unlinkat(d.fd, from, 0)
		return nil
	case errors.Is(err, unix.EEXIST):
		return &fs.PathError{Op: "link", Path: d.path + "/" + to, Err: err}
	}
	return d.Rename(from, to)
}

// Remove removes the file name from the folder (a link itself, never what
// it points to).
func (d *Folder) Remove(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: d.path + "/" + name, Err: err}
	}
	return nil
}

// Names lists the folder.
func (d *Folder) Names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// lstat describes the file name in the folder, not following a link.
func (d *Folder) lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// IsRegular reports whether name in the folder is a regular file (not a
// link to one).
func (d *Folder) IsRegular(name string) bool {
	st, err := d.lstat(name)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
}

// Sync flushes the folder's entries to disk, so that a rename survives a
// crash.
func (d *Folder) Sync() error {
	if err := unix.Fsync(d.fd); err != nil {
		return &fs.PathError{Op: "fsync", Path: d.path, Err: err}
	}
	return nil
}

// Holds reports whether name in the folder is still the file f has open:
// another writer may have renamed a file over it.
func (d *Folder) Holds(name string, f *os.File) bool {
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

// DupFile returns a second descriptor of the file f has open.
func DupFile(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// Path is the folder's path, for messages.
func (d *Folder) Path() string { return d.path }

// OpenFile opens the file name in the folder with flag (os.O_RDWR,
// os.O_CREATE, os.O_EXCL, ONonBlock...) and perm, never following a link
// (O_NOFOLLOW is added): a link there fails as IsLoop tells. A regular
// file opened with ONonBlock is made blocking, as Open does. Errors are
// os.OpenFile's, naming filepath.Join(folder, name).
func (d *Folder) OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := unix.Openat(d.fd, name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: d.join(name), Err: err}
		}
		if flag&unix.O_NONBLOCK != 0 {
			return readFile(fd, d.join(name)), nil
		}
		return os.NewFile(uintptr(fd), d.join(name)), nil
	}
}

// Link gives the file from in the folder the second name to, failing
// with fs.ErrExist when to exists (link(2): atomic, NFS included). Errors
// are os.Link's.
func (d *Folder) Link(from, to string) error {
	if err := unix.Linkat(d.fd, from, d.fd, to, 0); err != nil {
		return &os.LinkError{Op: "link", Old: d.join(from), New: d.join(to), Err: err}
	}
	return nil
}

// Lstat describes the file name in the folder, not following a link, as
// os.Lstat would (os.SameFile and Owner work on what it returns), even
// when it may not be opened. Without O_PATH (Unix but Linux) it is
// os.Lstat of the path.
func (d *Folder) Lstat(name string) (fs.FileInfo, error) {
	if pathOnly == 0 {
		return os.Lstat(d.join(name))
	}
	fd, err := unix.Openat(d.fd, name, pathOnly|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: d.join(name), Err: err}
	}
	f := os.NewFile(uintptr(fd), d.join(name))
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: d.join(name), Err: errors.Unwrap(err)}
	}
	return fi, nil
}

// join names the file name in the folder, as filepath.Join does.
func (d *Folder) join(name string) string { return filepath.Join(d.path, name) }

const (
	// ONoFollow opens no link: with it, opening a link fails (see IsLoop).
	ONoFollow = syscall.O_NOFOLLOW
	// ONonBlock: a FIFO planted at the path opens at once, then is refused.
	ONonBlock = syscall.O_NONBLOCK
)

// IsLoop reports whether err is the refusal of an open with ONoFollow
// because the path names a link.
func IsLoop(err error) bool { return errors.Is(err, unix.ELOOP) }
