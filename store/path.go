package store

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// DefaultFile returns the session file of this process: what DefaultPath
// gives for this system, this process's environment and the user's home
// folder ($HOME, else the system's record).
func DefaultFile() (string, error) {
	home, ok := os.LookupEnv("HOME")
	if !ok || home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("%w: no home folder to find the session file in: %w", ErrBadPath, err)
		}
	}
	return DefaultPath(runtime.GOOS, os.LookupEnv, home), nil
}

// DefaultPath returns where cryosparc-tools keeps its sessions on goos:
// %APPDATA%\cryosparc-tools\auth.json on Windows, otherwise
// $XDG_CONFIG_HOME/cryosparc-tools/auth.json when XDG_CONFIG_HOME is not
// blank, else ~/.config/cryosparc-tools/auth.json (macOS included). home is
// the user's home folder. CRYOSPARC_AUTH_FILE, when set, overrides it all.
func DefaultPath(goos string, env func(key string) (string, bool), home string) string {
	if v, ok := env("CRYOSPARC_AUTH_FILE"); ok && v != "" {
		return v
	}
	if goos == "windows" {
		dir, _ := env("APPDATA")
		if dir == "" {
			dir = filepath.Join(home, "AppData", "Roaming")
		}
		return filepath.Join(dir, "cryosparc-tools", "auth.json")
	}
	// Joined as text, not cleaned: "link/.." must reach the folder above
	// the link's target, as it does for the kernel and for cryosparc-tools
	// (pathlib keeps "..").
	dir := joinText(home, ".config")
	if v, _ := env("XDG_CONFIG_HOME"); strings.TrimSpace(v) != "" {
		dir = v
	}
	return joinText(dir, "cryosparc-tools/auth.json")
}

// joinText joins dir and name with one slash, as text: "..", "." and
// links in dir are left for the kernel to resolve.
func joinText(dir, name string) string {
	switch trimmed := strings.TrimRight(dir, "/"); {
	case dir == "":
		return name
	case trimmed == "":
		return "/" + name
	default:
		return trimmed + "/" + name
	}
}

// CheckPath refuses a session file path that cannot be what the user
// meant: blank, or starting with "~", which a shell did not expand.
func CheckPath(path string) error { return safefile.CheckPath(path) }

// Existing returns the session file at target, a path already resolved
// (links followed as the kernel would, no link left), or nil when there is
// none yet; it refuses one
// that is not a regular file, is larger than MaxFileSize or is read-only.
// The renewal lock (internal/renewal) checks the file with it before it
// creates anything beside it.
func Existing(target string) (fs.FileInfo, error) { return existing(target) }

// printable makes a path or value safe to show in a message.
func printable(s string) string { return text.Safe(s) }
