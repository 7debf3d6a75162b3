package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// Path resolution: which file a path reaches, found as the kernel finds
// it, without opening anything; store resolves the session file's path
// with it before every write, and the renewal lock before it locks.

// ErrBadPath: the path given for the session file cannot be meant.
// store.ErrBadPath is this error.
var ErrBadPath = errkind.New(errkind.BadInput, "unusable session file path")

// CheckPath refuses a session file path that cannot be what the user
// meant: blank, or starting with "~", which a shell did not expand.
func CheckPath(path string) error {
	switch {
	case strings.TrimSpace(path) == "":
		return fmt.Errorf("%w: the session file path is blank", ErrBadPath)
	case strings.HasPrefix(path, "~"):
		return fmt.Errorf("%w: %s starts with \"~\", which the shell did not expand (it does not inside quotes); write $HOME/… instead", ErrBadPath, printable(path))
	}
	return nil
}

// Resolve returns the file that opening path for writing reaches, as the
// kernel finds it: each link is read where it is found (a relative one
// from the real folder that holds it) and ".." climbs from the real
// folder reached so far, never from the text before it; a link to the
// file itself is followed, so the link stays and its target is replaced.
// When folders are missing, the result is the real folder that exists
// followed by the rest of path as written, to be created there as mkdir
// -p would; ".." after a missing folder is refused (open(2) fails on it).
// A missing folder that a link names (a dangling link on the way) is
// refused: open(2) would fail there, and nothing must be created on the
// far side of a link.
func Resolve(path string) (string, error) {
	if err := CheckPath(path); err != nil {
		return "", err
	}
	if _, base := filepath.Split(path); base == "" || base == "." || base == ".." {
		return "", fmt.Errorf("%w: %s names a folder, not a file", ErrBadPath, printable(path))
	}
	if IsWindows() {
		return resolveWindows(path)
	}
	return walk(path)
}

// ErrDangling marks a path that leads through a link to a folder that does
// not exist.
var ErrDangling = errors.New("dangling link")

// walk resolves path component by component (see Resolve).
func walk(path string) (string, error) {
	result, linkOwners, _, err := walkLinks(path)
	if err == nil && len(linkOwners) > 0 && os.Geteuid() == 0 {
		err = rootMayFollow(path, result, linkOwners)
	}
	return result, err
}

// walkLinks resolves path as walk does, and returns the owners of the links
// it followed that root does not own, and whether path's own last name is
// a link.
func walkLinks(path string) (result string, linkOwners []int, lastLink bool, err error) {
	var (
		real   string // the real path reached: "" (the working folder), "/" or a path
		todo   = strings.Split(path, "/")
		linked int // how many of todo's first components come from a link
		links  int
		via    string // the last link followed, for messages
		// ownLast: the last name of path itself is the one looked at
		// (until then, todo ends with it).
		ownLast = true
	)
	if strings.HasPrefix(path, "/") {
		real = "/"
	}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		fromLink := linked > 0
		if fromLink {
			linked--
		}
		last := len(todo) == 0
		isOwnLast := last && ownLast
		if last {
			ownLast = false
		}
		switch c {
		case "", ".", "..":
			if c == ".." {
				real = parent(real)
			}
			if last {
				return "", nil, false, fmt.Errorf("%w: %s leads to a folder, not a file", ErrBadPath, printable(path))
			}
			continue
		}
		p := join(real, c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && last:
			return p, linkOwners, lastLink, nil // the file is created there
		case errors.Is(err, fs.ErrNotExist) && fromLink:
			return "", nil, false, fmt.Errorf("%w: %s leads through the link %s to %s, which does not exist; create that folder or correct the link (%w)", ErrUnsafe, printable(path), printable(via), printable(p), ErrDangling)
		case errors.Is(err, fs.ErrNotExist):
			// Missing folders, from here on: created as written, which
			// ".." cannot be (open(2) fails on it too).
			if slices.Contains(todo, "..") {
				return "", nil, false, fmt.Errorf("%w: %s climbs with \"..\" out of %s, which does not exist; give the path without it", ErrBadPath, printable(path), printable(p))
			}
			return filepath.Clean(p + "/" + strings.Join(todo, "/")), linkOwners, lastLink, nil
		case err != nil:
			return "", nil, false, fmt.Errorf("%w: %w", ErrUnsafe, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			lastLink = lastLink || isOwnLast
			if links++; links > 40 {
				return "", nil, false, fmt.Errorf("%w: too many symbolic links at %s", ErrUnsafe, printable(path))
			}
			if uid, _, ok := Owner(fi); ok && uid != 0 {
				linkOwners = append(linkOwners, uid)
			}
			target, err := os.Readlink(p)
			if err != nil {
				return "", nil, false, fmt.Errorf("%w: %w", ErrUnsafe, err)
			}
			if target == "" {
				return "", nil, false, fmt.Errorf("%w: the link %s is empty", ErrUnsafe, printable(p))
			}
			if strings.HasPrefix(target, "/") {
				real = "/"
			}
			more := strings.Split(target, "/")
			todo = append(more, todo...)
			linked += len(more)
			via = p
		case last:
			return p, linkOwners, lastLink, nil
		case !fi.IsDir():
			return "", nil, false, fmt.Errorf("%w: %s: %s is not a folder", ErrUnsafe, printable(path), printable(p))
		default:
			real = p
		}
	}
	return "", nil, false, fmt.Errorf("%w: %s names a folder, not a file", ErrBadPath, printable(path))
}

// rootMayFollow refuses, to root, links that a user planted to lead it
// elsewhere: a link owned by a user is followed only to a file, or a
// folder to create the file in, that the same user owns. (A user's own
// auth.json linked into the user's own files is followed as ever; a link
// to /etc/nologin is not.) result is where path leads; owners are the
// owners of the links followed on the way that are not root.
func rootMayFollow(path, result string, owners []int) error {
	at := result
	fi, err := os.Lstat(at)
	for errors.Is(err, fs.ErrNotExist) && at != "/" && at != "." && at != "" {
		at = filepath.Dir(at)
		fi, err = os.Lstat(at)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	uid, _, ok := Owner(fi)
	if !ok {
		return nil
	}
	for _, o := range owners {
		if o != uid {
			return fmt.Errorf("%w: %s leads through a link owned by user %d to %s, owned by user %d; as root, a user's link is followed only to what that user owns: remove the link, or run as that user", ErrUnsafe, printable(path), o, printable(at), uid)
		}
	}
	return nil
}

// parent returns the folder above real, a path free of links.
func parent(real string) string {
	switch {
	case real == "/":
		return "/"
	case real == "" || real == ".." || strings.HasSuffix(real, "/.."):
		return join(real, "..") // above the working folder
	}
	p := filepath.Dir(real)
	if p == "." {
		return ""
	}
	return p
}

func join(dir, name string) string {
	switch dir {
	case "":
		return name
	case "/":
		return "/" + name
	}
	return dir + "/" + name
}

// resolveWindows resolves path where ".." is taken as text before any
// link is followed, as Windows does.
func resolveWindows(path string) (string, error) {
	for i := 0; i < 40; i++ {
		dir, base := filepath.Split(path)
		if dir == "" {
			dir = "."
		}
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.Clean(path), nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		p := filepath.Join(real, base)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(real, link)
		}
		path = link
	}
	return "", fmt.Errorf("%w: too many symbolic links at %s", ErrUnsafe, printable(path))
}

// printable makes a path safe to show in a message.
func printable(s string) string { return text.Safe(s) }
