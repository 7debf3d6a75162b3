package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// ErrNotRepaired: Repair would have to turn a file that is not a session
// file, or one that is not JSON, into an empty one; it does so only when
// forced.
var ErrNotRepaired = errkind.New(errkind.File, "not repaired")

// Repair rewrites the file at path with only what cryosparc-tools would
// keep of it: the valid entries, without expired sessions, in its own
// layout, mode 0600. The original is first copied, 0600, to a new file
// beside it named path.bak-<UTC time to the second>, or, when that name
// is taken (a second repair within the same second), the same name
// followed by -2, -3, …; Repair returns its path. A file that needs
// nothing, an empty file (cryosparc-tools reads it as no sessions) and a
// missing one are left alone and Repair returns "". A file that does not
// look like a session file, or a non-empty one with nothing valid left to
// keep (not JSON), is not touched unless force is true: that would leave
// "{}" in its place (the backup keeps the original); without force such
// a file gives an ErrNotRepaired error.
func Repair(path string, opt *Options, force bool) (backup string, err error) {
	r, err := RepairRead(path, opt, force)
	return r.Backup, err
}

// Repaired is what RepairRead did, and what the file holds after it.
type Repaired struct {
	// Backup is the path of the copy of the original, "" when the file
	// was left as it was.
	Backup string
	// Sessions are what the file holds after the repair, from the one
	// read the repair made: what it read, when it left the file as it was
	// (no session had expired), else what it wrote. nil when it read no
	// sessions: there is no file, or an empty one.
	Sessions *Sessions
}

// RepairRead is Repair, returning also what the file holds after it: the
// file is read once, under the lock, for both.
func RepairRead(path string, opt *Options, force bool) (Repaired, error) {
	target, err := safefile.Resolve(path) // checks the path too
	if err != nil {
		return Repaired{}, err
	}
	fi, err := existing(target)
	if fi == nil || err != nil {
		return Repaired{}, err
	}
	if fi.Size() == 0 {
		return Repaired{}, nil
	}
	var lk *lockfile.Lock
	if force {
		lk, err = lock(target, opt, fi)
	} else {
		// Refuses a file that is not a session file before locking.
		b := opt.base()
		if opt != nil {
			b.LockTimeout, b.flock, b.touch = opt.LockTimeout, opt.flock, opt.touch
		}
		_, lk, err = lockTarget(target, &b)
	}
	if err != nil {
		if isForeign(err) {
			return Repaired{}, fmt.Errorf("%w: %w; only a forced repair changes it (keeping a backup)", ErrNotRepaired, err)
		}
		return Repaired{}, err
	}
	defer lk.Unlock()

	d, err := safefile.OpenFolder(filepath.Dir(target), false)
	if err != nil {
		return Repaired{}, err
	}
	defer d.Close()
	old, err := d.Open(filepath.Base(target))
	if old == nil || err != nil {
		return Repaired{}, err
	}
	// The one read: of the file open as old, or, when that is caught being
	// written, of the whole version that follows, as Load reads; and, as
	// Load does, with the writes a stale save dropped put back (the repair
	// writes them).
	lopt := opt.base()
	recent := readerRecent(target, &lopt)
	v, perr := readVersion(target, &lopt, readThrough(old), nil, nil)
	if perr == nil {
		perr = v.perr
	}
	s, raw := v.s, v.data
	switch {
	case perr != nil && !invalid(perr):
		s = nil // no whole version: no answer
	case s == nil:
		s = &Sessions{}
	}
	if perr == nil {
		restoreDropped(s, recent, lopt.now())
	}
	ofi, err := old.Stat()
	if err != nil {
		old.Close()
		return Repaired{}, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(target), err)
	}
	if len(raw) == 0 && perr == nil {
		old.Close()
		return Repaired{}, nil // emptied since it was looked at: nothing to repair
	}
	var (
		inv    *InvalidError
		backup string
	)
	switch {
	case s == nil:
		err = perr
	case errors.As(perr, &inv) && (inv.Syntax() || inv.Foreign()) && !force:
		err = fmt.Errorf("%w: %s holds nothing that can be kept (%s); only a forced repair replaces it with an empty session file, keeping a backup", ErrNotRepaired, printable(target), inv.Problems[0])
	case errors.Is(perr, ErrBusy):
		err = perr
	case perr == nil && string(s.Marshal()) == string(raw) && (ofi.Mode().Perm() == 0o600 || safefile.IsWindows()):
		// Nothing to repair.
	default:
		backup, err = writeBackup(d, target, opt.now(), raw, ofi)
	}
	if backup == "" {
		old.Close()
		if err != nil {
			return Repaired{}, err
		}
		return Repaired{Sessions: s}, nil
	}
	// Read again by replace when another program saves meanwhile: with
	// the same clock and expiry rule as s.
	ropt := new(Options)
	*ropt = opt.base()
	final, err := replace(d, target, ropt, lk, old, s.clone(), raw, s)
	if err != nil {
		return Repaired{Backup: backup}, err
	}
	return Repaired{Backup: backup, Sessions: final}, nil
}

// readThrough returns the reader of the file open as f, the first read of
// a change: through a descriptor of its own, which the snapshot may close,
// so that the version read is the one kept open to be replaced.
func readThrough(f *os.File) reader {
	return func(path string, opt *Options) (*snapshot, error) {
		g, err := safefile.DupFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		fi, err := g.Stat()
		if err == nil {
			err = checkRegular(path, fi)
		}
		if err != nil {
			g.Close()
			return nil, err
		}
		return copyOpen(path, g, fi, opt)
	}
}

const backupStamp = "20060102T150405Z"

// backupPrefix starts the names of target's backups.
func backupPrefix(target string) string { return filepath.Base(target) + ".bak-" }

// writeBackup writes data to a new 0600 file beside target, in the folder
// d, flushed to disk, with the owner and group of the file it copies, ref,
// when root writes it: named after now, with -2, -3, … added while the name is
// taken (by anything, a link included: none is followed). It returns the
// backup's path.
func writeBackup(d *safefile.Folder, target string, now time.Time, data []byte, ref fs.FileInfo) (string, error) {
	stem := backupPrefix(target) + now.UTC().Format(backupStamp)
	name := stem
	var (
		f   *os.File
		err error
	)
	for n := 2; ; n++ {
		if f, err = d.Create(name); !errors.Is(err, fs.ErrExist) || n > 1000 {
			break
		}
		name = stem + "-" + strconv.Itoa(n)
	}
	path := filepath.Join(filepath.Dir(target), name)
	if err != nil {
		return "", fmt.Errorf("%w: creating the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	if os.Geteuid() == 0 {
		if uid, gid, ok := safefile.Owner(ref); ok {
			err = safefile.KeepOwner(f, uid, gid)
		}
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.Remove(name)
		return "", fmt.Errorf("%w: writing the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	if err := d.Sync(); err != nil {
		// The file is not touched without a backup that survives a crash.
		d.Remove(name)
		return "", fmt.Errorf("%w: flushing the backup %s to disk: %w", ErrUnsafe, printable(path), err)
	}
	return path, nil
}

// Backups returns the backups Repair kept of the session file at path,
// oldest first: the regular files beside it named as Repair names them
// (links and other names are left out). A folder that does not exist
// holds none.
func Backups(path string) ([]string, error) {
	target, err := safefile.Resolve(path)
	if errors.Is(err, safefile.ErrDangling) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(target)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	d, err := safefile.OpenFolder(dir, false)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Names()
	if err != nil {
		return nil, fmt.Errorf("%w: listing %s: %w", ErrUnsafe, printable(dir), err)
	}
	type found struct {
		name, stamp string
		n           int
	}
	var list []found
	prefix := backupPrefix(target)
	for _, name := range names {
		stamp, n, ok := backupName(strings.TrimPrefix(name, prefix))
		if ok && strings.HasPrefix(name, prefix) && d.IsRegular(name) {
			list = append(list, found{name, stamp, n})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].stamp != list[j].stamp {
			return list[i].stamp < list[j].stamp
		}
		return list[i].n < list[j].n
	})
	out := make([]string, len(list))
	for i, b := range list {
		out[i] = filepath.Join(dir, b.name)
	}
	return out, nil
}

// backupName parses what follows ".bak-" in a backup's name: its time
// stamp and its number (1 for none).
func backupName(s string) (stamp string, n int, ok bool) {
	stamp, num, numbered := strings.Cut(s, "-")
	if _, err := time.Parse(backupStamp, stamp); err != nil || len(stamp) != len(backupStamp) {
		return "", 0, false
	}
	if !numbered {
		return stamp, 1, true
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 2 || strconv.Itoa(n) != num {
		return "", 0, false
	}
	return stamp, n, true
}
