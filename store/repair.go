package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// ErrNotRepaired: Repair would have to turn a file that is not a session
// file, or one that is not JSON, into an empty one; it does so only when
// forced.
var ErrNotRepaired = errkind.New(errkind.File, "not repaired")

// Repair rewrites the file at path with only what cryosparc-tools would
// keep of it: the valid entries, without expired sessions, in its own
// layout, mode 0600. The original is first copied to
// path.bak-<UTC timestamp> (0600), whose name Repair returns. A file that
// needs nothing, an empty file (cryosparc-tools reads it as no sessions)
// and a missing one are left alone and Repair returns "". A file that does
// not look like a session file, or a non-empty one with nothing valid left
// to keep (not JSON), is not touched unless force is true: that would
// leave "{}" in its place (the backup keeps the original).
func Repair(path string, opt *Options, force bool) (backup string, err error) {
	target, err := resolve(path) // checks the path too
	if err != nil {
		return "", err
	}
	fi, err := existing(target)
	if fi == nil || err != nil {
		return "", err
	}
	if fi.Size() == 0 {
		return "", nil
	}
	var unlock func()
	if force {
		unlock, err = lock(target, opt, fi)
	} else {
		// Refuses a file that is not a session file before locking.
		_, unlock, err = lockTarget(target, &Options{Now: opt.now, LockTimeout: opt.LockTimeout, Sleep: opt.sleep})
	}
	if err != nil {
		if isForeign(err) {
			return "", fmt.Errorf("%w: %w; only --force changes it (keeping a backup)", ErrNotRepaired, err)
		}
		return "", err
	}
	defer unlock()

	raw, version, _, err := readFile(target)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(raw) == 0 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	s, perr := Load(target, &Options{Now: opt.now, Sleep: opt.sleep})
	if s == nil {
		return "", perr
	}
	var inv *InvalidError
	if errors.As(perr, &inv) && (inv.Syntax() || inv.Foreign()) && !force {
		return "", fmt.Errorf("%w: %s holds nothing that can be kept (%s); only --force replaces it with an empty session file, keeping a backup", ErrNotRepaired, printable(target), inv.Problems[0])
	}
	if errors.Is(perr, ErrBusy) {
		return "", perr
	}
	clean := s.Marshal()
	if perr == nil && string(clean) == string(raw) && (version.mode.Perm() == 0o600 || isWindows()) {
		return "", nil
	}
	backup = target + ".bak-" + opt.now().UTC().Format("20060102T150405Z")
	if err := writeNew(backup, raw, fi); err != nil {
		return "", err
	}
	if err := writeAtomic(target, clean, fi); err != nil {
		return backup, err
	}
	return backup, nil
}

// writeNew writes data to a new 0600 file at path, flushed to disk, with
// the owner of ref.
func writeNew(path string, data []byte, ref fs.FileInfo) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: creating the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	if os.Geteuid() == 0 {
		keepOwner(f, ref)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("%w: writing the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	return nil
}
