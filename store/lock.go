package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// lockTarget resolves path to the file to replace, checks that it may be
// replaced, and takes the lock on it. A file that is not a session file is
// refused before anything is created beside it.
func lockTarget(path string, opt *Options) (target string, unlock func(), err error) {
	if target, err = resolve(path); err != nil { // resolve checks the path too
		return "", nil, err
	}
	fi, err := existing(target)
	if err != nil {
		return "", nil, err
	}
	if fi != nil {
		if _, err := os.Lstat(lockPath(target)); err != nil {
			// No lock file yet: make sure this is a session file before
			// creating one beside it.
			if _, err := Load(target, &Options{Now: opt.now, KeepExpired: true, Sleep: opt.sleep}); isForeign(err) {
				return "", nil, err
			}
		}
	}
	dir := filepath.Dir(target)
	if err := mkdirAll(dir); err != nil {
		return "", nil, err
	}
	ref := fi
	if ref == nil {
		ref, _ = os.Stat(dir)
	}
	unlock, err = lock(target, opt, ref)
	if err != nil {
		return "", nil, err
	}
	removeStaleTemps(target)
	return target, unlock, nil
}

func isForeign(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv) && inv.Foreign()
}

func lockPath(target string) string { return target + ".lock" }

// lock takes the advisory lock on target's sibling lock file, waiting at
// most the lock timeout (zero: trying once). A lock file created by root
// gets the owner of ref, the session file or its folder, so that the
// user's own runs can still open it; a lock file this user cannot write
// (left by root before) is locked through a read-only handle.
func lock(target string, opt *Options, ref fs.FileInfo) (func(), error) {
	var timeout time.Duration
	if opt != nil {
		timeout = opt.LockTimeout
	}
	lp := lockPath(target)
	fl := flock.New(lp, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if errors.Is(err, fs.ErrPermission) {
		fl = flock.New(lp, flock.SetFlag(os.O_RDONLY))
		ok, err = fl.TryLock()
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w: the lock file %s belongs to another user (an older version run as root leaves it so) and cannot be opened; remove it (rm %s) while no other program uses the session file: %w",
			ErrUnsafe, printable(lp), printable(lp), err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, printable(lp), err)
	}
	if os.Geteuid() == 0 && ref != nil {
		if uid, gid, ok := owner(ref); ok {
			os.Lchown(lp, uid, gid)
		}
	}
	unlock := func() { fl.Unlock() }
	if ok {
		return unlock, nil
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%w %s: another process holds it (retry, or give --lock-timeout)", ErrLockTimeout, printable(lp))
	}
	// Wait in a blocking lock, which the kernel (or the NFS server) grants
	// the moment the holder lets go, rather than polling.
	got := make(chan error, 1)
	go func() { got <- fl.Lock() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, printable(lp), err)
		}
		return unlock, nil
	case <-timer.C:
		// The waiter may still be granted the lock: give it back at once.
		go func() {
			if <-got == nil {
				fl.Unlock()
			}
		}()
		return nil, fmt.Errorf("%w %s after %s; another process holds it (retry, or raise --lock-timeout)", ErrLockTimeout, printable(lp), timeout)
	}
}
