package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// The writer lock is internal/lockfile's (auth.json.lock, .lock.held and
// .lock.break beside the session file; docs/reliability.md, "Locking on
// every file system"). Here: what store checks before taking it, and its
// options taken from Options.

// lockTarget resolves path to the file to replace, checks that it may be
// replaced, and takes the lock on it. A file that is not a session file is
// refused before anything is created beside it.
func lockTarget(path string, opt *Options) (target string, l *lockfile.Lock, err error) {
	if target, err = safefile.Resolve(path); err != nil { // resolve checks the path too
		return "", nil, err
	}
	fi, err := existing(target)
	if err != nil {
		return "", nil, err
	}
	if fi != nil && fi.Size() > 0 {
		// (An empty file cannot be another program's: nothing to check.)
		if _, err := os.Lstat(lockfile.Path(target)); err != nil {
			// No lock file yet: make sure this is a session file before
			// creating one beside it.
			b := opt.base()
			b.KeepExpired = true
			if _, err := loadFile(target, &b); isForeign(err) {
				return "", nil, err
			}
		}
	}
	if err := safefile.MkdirAll(filepath.Dir(target)); err != nil {
		return "", nil, err
	}
	l, err = lock(target, opt, fi)
	if err != nil {
		return "", nil, err
	}
	removeStaleTemps(target)
	return target, l, nil
}

func isForeign(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv) && inv.Foreign()
}

// lock takes the exclusive lock on target (see lockfile.Take), waiting at
// most opt's lock timeout. ref is the session file, nil when there is none
// yet.
func lock(target string, opt *Options, ref fs.FileInfo) (*lockfile.Lock, error) {
	// The lock waits by this machine's clock (the test's, when set), not
	// by Now, the clock of sessions' expiry, which a test may hold still.
	o := lockfile.Options{Now: opt.wallNow}
	if opt != nil {
		o.Timeout, o.Flock, o.Touch = opt.LockTimeout, opt.flock, opt.touch
	}
	return lockfile.Take(target, o, ref)
}
