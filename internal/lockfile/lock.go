// Package lockfile is the writer lock beside a file (the session file's
// auth.json.lock, auth.json.lock.held and auth.json.lock.break, and the
// renewal lock's): flock where the file system grants it, an exclusively
// created file holding the holder's host, process and start everywhere,
// refreshed while held, and the breaking of a lock a dead holder left. It
// takes paths and options of its own, and knows nothing of sessions. Every
// lock file is created, opened, linked and removed through the target's
// folder, opened once per Take (safefile.Folder): whatever becomes of the
// path meanwhile (a folder on it swapped for a link), the lock files are in
// the folder that was opened.
package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// The lock has two parts (docs/reliability.md, "Locking on every file
// system"):
//
//   - flock(2) on auth.json.lock, a file that stays, where the file system
//     grants it: waiters on the same lock wake as it is released, and older
//     versions of this program take the same lock;
//   - auth.json.lock.held, created exclusively (O_EXCL) by every writer and
//     removed when it is done, holding the writer's host, process and start.
//     It is what excludes writers where flock is refused (ENOLCK, ENOSYS,
//     EOPNOTSUPP, EINVAL: NFS without a lock manager, Lustre without the
//     flock option, some BeeGFS, CIFS and FUSE mounts), and it is taken by
//     flock's holders too, so that writers of both kinds exclude each other
//     in any mix of hosts.
//
// A holder that dies leaves auth.json.lock.held behind. It is stale, and
// removed by the next writer, when its process is gone (same host and
// process namespace: checked at once) or when it has not been refreshed for
// StaleAfter by the file system's clock (another host): a holder
// refreshes it every RefreshEvery while it holds the lock. A stale lock is
// removed only under auth.json.lock.break, itself created exclusively, after
// checking that it is still the one judged stale, so that two waiters that
// both judge it stale never remove each other's fresh lock.

// ErrTimeout: another process held the lock for longer than allowed.
// store.ErrLockTimeout is this error.
var ErrTimeout = errkind.New(errkind.File, "timed out waiting for the lock on the session file")

// StaleAfter is how long the lock file of a holder on another host must
// have gone without its holder's refresh (every RefreshEvery while it holds
// the lock) before the next one takes it for a dead holder's and removes
// it. On its own host they see at once that its process has ended.
const StaleAfter = 30 * time.Second

// RefreshEvery is how often a holder refreshes its lock file's modification
// time, far below StaleAfter.
const RefreshEvery = time.Second

// Waiting for a lock polls with a backoff, never blocks in the kernel: a
// library caller's goroutine is not left blocked once the timeout passed.
const (
	pollFirst = time.Millisecond
	pollMax   = 25 * time.Millisecond
)

// Path is the path of the flock file of the lock on target.
func Path(target string) string { return lockPath(target) }

func lockPath(target string) string  { return target + ".lock" }
func heldPath(target string) string  { return target + ".lock.held" }
func breakPath(target string) string { return target + ".lock.break" }

// Options tune Take. The zero value tries once, with flock(2) (LockFileEx
// on Windows) and the real refresh.
type Options struct {
	// Timeout is how long Take waits for another holder; zero or less
	// tries once.
	Timeout time.Duration
	// Flock, when set, replaces the one try of flock(2) on the lock file:
	// tests make it fail as the file systems that refuse it do.
	Flock func(*os.File) error
	// Touch, when set, replaces the refresh of a held lock file's
	// modification time (Touch): tests make it fail.
	Touch func(*os.File) error
	// Now is the clock of the wait and of a lock file's age; nil is
	// time.Now.
	Now func() time.Time
	// Sleep pauses between tries; nil is time.Sleep. A wait ends after
	// Timeout by Now, or once its pauses add up to Timeout, so that a
	// clock that does not move still bounds it.
	Sleep func(time.Duration)
	// Folder, when set, is the target's folder, open: the lock files are
	// in it. It must stay open until Unlock; Take does not close it. nil:
	// Take opens the target's folder (safefile.OpenFolder: the caller has
	// resolved the links on its path) and Unlock closes it.
	Folder *safefile.Folder
	// AfterOpen, when set, runs once the folder is open, before any lock
	// file is looked at: tests swap the folder's path there.
	AfterOpen func()
}

// clock is the time and the pause a lock waits by.
type clock struct {
	now   func() time.Time
	sleep func(time.Duration)
}

// clock returns opt's clock, time.Now and time.Sleep where not set.
func (opt Options) clock() clock {
	c := clock{now: opt.Now, sleep: opt.Sleep}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = time.Sleep
	}
	return c
}

// Take takes the exclusive lock on target, waiting at most opt.Timeout
// (zero: trying once). ref is the session file, nil when there is none yet.
// The lock files must belong to the session file's owner (for a new file:
// to the folder's owner when root creates it, else to this user): root
// gives those it creates to that owner, and refuses any that is a link, is
// not a regular file or belongs to someone else, so that no one can lead it
// to open another path.
func Take(target string, opt Options, ref fs.FileInfo) (*Lock, error) {
	timeout := opt.Timeout
	tryFlock, refresh := platformFlock, Touch
	if opt.Flock != nil {
		tryFlock = opt.Flock
	}
	if opt.Touch != nil {
		refresh = opt.Touch
	}
	c := opt.clock()
	deadline := c.now().Add(timeout)
	d, own := opt.Folder, opt.Folder == nil
	if own {
		var err error
		if d, err = safefile.OpenFolder(filepath.Dir(target), false); err != nil {
			return nil, err
		}
	}
	closeFolder := func() {
		if own {
			d.Close()
		}
	}
	if opt.AfterOpen != nil {
		opt.AfterOpen()
	}
	want := OwnerIn(d, ref)
	lp := lockPath(target)
	timedOut := func(who string) error {
		if timeout <= 0 {
			return fmt.Errorf("%w %s: %s holds it", ErrTimeout, text.Safe(lp), who)
		}
		return fmt.Errorf("%w %s after %s: %s holds it", ErrTimeout, text.Safe(lp), text.Duration(timeout), who)
	}

	f, err := openLockFile(d, lp, want)
	if err != nil {
		closeFolder()
		return nil, err
	}
	wait := newPoll(c, deadline)
	for {
		err := tryFlock(f)
		if err == nil {
			break
		}
		if flockUnsupported(err) {
			// The file system refuses flock: the exclusive lock file
			// below excludes every other writer on its own.
			f.Close()
			f = nil
			break
		}
		if !flockBusy(err) {
			f.Close()
			closeFolder()
			return nil, fmt.Errorf("%w: locking %s: %w", safefile.ErrUnsafe, text.Safe(lp), err)
		}
		if !wait.next() {
			f.Close()
			closeFolder()
			return nil, timedOut("another process")
		}
	}
	l := &Lock{flock: f}
	if l.held, err = takeHeld(d, target, want, c, deadline, timedOut, refresh); err != nil {
		l.closeFlock()
		closeFolder()
		return nil, err
	}
	if own {
		l.dir = d
	}
	return l, nil
}

// Lock is the lock Take took, held until Unlock.
type Lock struct {
	flock *os.File         // the flock file; nil where the file system refuses flock
	held  *lockFile        // the exclusive lock file
	dir   *safefile.Folder // the folder Take opened, closed by Unlock
}

// Held returns nil while the lock is still this writer's, else why it is
// not: its lock file could not be refreshed (so another host may take it
// for a dead writer's), or it is no longer in d, the session file's
// folder: removed, or replaced by another process's. A writer calls it
// right before it renames a new file into d.
func (l *Lock) Held(d *safefile.Folder) error {
	if err := l.held.failed(); err != nil {
		return err
	}
	if !d.Holds(l.held.name, l.held.f) {
		return fmt.Errorf("the lock file %s was removed or replaced by another process", text.Safe(l.held.path))
	}
	return nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	l.held.release()
	l.closeFlock()
	if l.dir != nil {
		l.dir.Close()
	}
}

func (l *Lock) closeFlock() {
	if l.flock != nil {
		l.flock.Close() // releases the flock
	}
}

// Owner is whom the lock files must belong to, as OwnerOf works it out.
type Owner struct {
	uid, gid int
	known    bool // false where files have no Unix owner (Windows)
	give     bool // root creates the files: chown them to uid:gid
}

// OwnerOf returns whom the lock files beside a session file in dir
// must belong to: the session file's owner (ref); for a new file, the
// folder's owner when root creates it, else this user.
func OwnerOf(dir string, ref fs.FileInfo) Owner {
	root := os.Geteuid() == 0
	if ref == nil && root {
		ref, _ = os.Stat(dir)
	}
	if ref != nil {
		if uid, gid, ok := safefile.Owner(ref); ok {
			return Owner{uid: uid, gid: gid, known: true, give: root}
		}
		return Owner{}
	}
	if uid := os.Geteuid(); uid >= 0 {
		return Owner{uid: uid, gid: os.Getegid(), known: true}
	}
	return Owner{}
}

// OwnerIn returns whom the lock files beside a session file in the open
// folder d must belong to, as OwnerOf does: for a new file created by
// root, the owner of the folder d has open, whatever its path leads to now.
func OwnerIn(d *safefile.Folder, ref fs.FileInfo) Owner {
	if ref == nil && os.Geteuid() == 0 {
		if uid, gid, ok := d.Owner(); ok {
			return Owner{uid: uid, gid: gid, known: true, give: true}
		}
	}
	return OwnerOf(d.Path(), ref)
}

// Check refuses a lock file that is not a regular file or belongs to
// someone other than want.
func (want Owner) Check(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: the lock file %s is not a regular file (%s); remove it (rm %s) while no other program uses the session file",
			safefile.ErrUnsafe, text.Safe(path), safefile.Kind(fi.Mode()), text.Safe(path))
	}
	if !want.known {
		return nil
	}
	if uid, _, ok := safefile.Owner(fi); ok && uid != want.uid {
		return fmt.Errorf("%w: the lock file %s belongs to user %d, not to user %d, the owner of the session file (an older version run as root leaves it so); remove it (rm %s) while no other program uses the session file",
			safefile.ErrUnsafe, text.Safe(path), uid, want.uid, text.Safe(path))
	}
	return nil
}

// RefuseOpen explains why the lock file at path, in the folder d, could
// not be opened.
func (want Owner) RefuseOpen(d *safefile.Folder, path string, err error) error {
	err = Named(err, path)
	if safefile.IsLoop(err) {
		return fmt.Errorf("%w: the lock file %s is a symbolic link, which is never followed; remove it (rm %s) while no other program uses the session file",
			safefile.ErrUnsafe, text.Safe(path), text.Safe(path))
	}
	if errors.Is(err, fs.ErrPermission) {
		if fi, lerr := d.Lstat(filepath.Base(path)); lerr == nil {
			if cerr := want.Check(path, fi); cerr != nil {
				return cerr
			}
		}
	}
	return fmt.Errorf("%w: opening the lock file %s: %w", safefile.ErrUnsafe, text.Safe(path), err)
}

// openLockFile opens the flock file at path, in the folder d, for
// writing, never through a link, creating it (exclusively, then given to
// its owner) when missing.
func openLockFile(d *safefile.Folder, path string, want Owner) (*os.File, error) {
	for range 3 { // missing, then created by another process meanwhile
		f, err := d.OpenFile(filepath.Base(path), os.O_RDWR|safefile.ONonBlock, 0)
		if errors.Is(err, fs.ErrNotExist) {
			f, err = CreateExclusive(d, path, want)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return f, nil
		}
		if err != nil {
			return nil, want.RefuseOpen(d, path, err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = want.Check(path, fi)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: the lock file %s keeps appearing and disappearing; is another program removing it?", safefile.ErrUnsafe, text.Safe(path))
}

// CreateExclusive creates the file at path, which must not exist, in the
// folder d (path names a file in d: its last element is the name), 0600,
// and gives it to its owner when root creates it. fs.ErrExist when
// anything has that name, a link included.
func CreateExclusive(d *safefile.Folder, path string, want Owner) (*os.File, error) {
	name := filepath.Base(path)
	f, err := d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	err = Named(err, path)
	if errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: creating the lock file %s: %w", safefile.ErrUnsafe, text.Safe(path), err)
	}
	if want.known && want.give && (want.uid != os.Geteuid() || want.gid != os.Getegid()) {
		if err := f.Chown(want.uid, want.gid); err != nil {
			f.Close()
			d.Remove(name)
			return nil, fmt.Errorf("%w: giving the lock file %s to user %d: %w", safefile.ErrUnsafe, text.Safe(path), want.uid, err)
		}
	}
	return f, nil
}

// Named returns err, an error of a safefile.Folder's method on a file, as
// the same call by path would have made it: naming path (a rename's or a
// link's from and to: their folder's files, by their names in path's
// folder).
func Named(err error, path string) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	case errors.As(err, &le):
		dir := filepath.Dir(path)
		return &os.LinkError{Op: le.Op, Old: filepath.Join(dir, filepath.Base(le.Old)), New: filepath.Join(dir, filepath.Base(le.New)), Err: le.Err}
	}
	return err
}

// poll paces the retries of a lock: 1 ms, doubling to 25 ms, with jitter
// so that waiters do not retry in step, never past the deadline, and
// never pausing for longer in all than the deadline was away at the
// start (which bounds the wait by a clock that does not move).
type poll struct {
	c        clock
	deadline time.Time
	left     time.Duration // of the pauses
	d        time.Duration
}

func newPoll(c clock, deadline time.Time) poll {
	return poll{c: c, deadline: deadline, left: deadline.Sub(c.now())}
}

// next sleeps before the next try and reports whether there is one.
func (p *poll) next() bool {
	left := min(p.deadline.Sub(p.c.now()), p.left)
	if left <= 0 {
		return false
	}
	if p.d == 0 {
		p.d = pollFirst
	}
	d := min(p.d/2+rand.N(p.d/2+1), left)
	p.d = min(2*p.d, pollMax)
	p.left -= d
	p.c.sleep(d)
	return true
}
