package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// DefaultPath returns where cryosparc-tools keeps its sessions on goos:
// %APPDATA%\cryosparc-tools\auth.json on Windows, otherwise
// $XDG_CONFIG_HOME/cryosparc-tools/auth.json when XDG_CONFIG_HOME is not
// blank, else ~/.config/cryosparc-tools/auth.json (macOS included). home is
// the user's home folder. CRYOSPARC_AUTH_FILE, when set, overrides it all.
func DefaultPath(goos string, env func(key string) (string, bool), home string) string {
	if v, ok := env("CRYOSPARC_AUTH_FILE"); ok && v != "" {
		return v
	}
	var dir string
	if goos == "windows" {
		dir, _ = env("APPDATA")
		if dir == "" {
			dir = filepath.Join(home, "AppData", "Roaming")
		}
		dir = filepath.Clean(dir)
	} else if v, _ := env("XDG_CONFIG_HOME"); strings.TrimSpace(v) != "" {
		dir = v
	} else {
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "cryosparc-tools", "auth.json")
}

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

// resolve follows symbolic links to the file that is to be replaced, as
// the kernel follows them when the file is opened: a relative link is read
// from the real folder that holds it, and ".." climbs from there, so that
// every spelling of the path reads, locks and writes the same file.
func resolve(path string) (string, error) {
	if err := CheckPath(path); err != nil {
		return "", err
	}
	for i := 0; i < 40; i++ {
		dir, base := filepath.Split(path)
		if base == "" || base == "." || base == ".." {
			return "", fmt.Errorf("%w: %s names a folder, not a file", ErrBadPath, printable(path))
		}
		if dir == "" {
			dir = "."
		}
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, fs.ErrNotExist) {
			// The folder does not exist yet: it will be created as named.
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
			// Not filepath.Join, which would take ".." as text.
			link = real + string(filepath.Separator) + link
		}
		path = link
	}
	return "", fmt.Errorf("%w: too many symbolic links at %s", ErrUnsafe, printable(path))
}

// printable makes a path or value safe to show in a message.
func printable(s string) string { return text.Safe(s) }
