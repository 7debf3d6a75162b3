package store

import (
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
)

// Errors callers branch on.
var (
	// ErrLockTimeout: another process held the lock for longer than allowed.
	// It is lockfile.ErrTimeout (the same value: errkind.New of the same
	// kind and message, so that no code runs for it at start-up).
	ErrLockTimeout = errkind.New(errkind.File, "timed out waiting for the lock on the session file")
	// ErrUnsafe: the file or its folder cannot be read or written safely.
	// It is safefile.ErrUnsafe, which the file helpers and the lock return.
	ErrUnsafe = errkind.New(errkind.File, "session file cannot be accessed safely")
	// ErrBusy: the file stayed incomplete, and kept changing, for longer
	// than a reader waits: another program is writing it.
	ErrBusy = errkind.New(errkind.File, "the session file is being written by another program")
	// ErrBadPath: the path given for the session file cannot be meant.
	// It is safefile.ErrBadPath, which path resolution returns.
	ErrBadPath = errkind.New(errkind.BadInput, "unusable session file path")
)

// Limits on the files read and how long a reader waits for a file that is
// being written.
const (
	// MaxFileSize is the largest session file read: far above any real one
	// (100,000 sessions take 27 MB).
	MaxFileSize = 256 << 20
	// AbandonAfter is how long a file must have been left alone, empty or
	// cut short, before it counts as a write that was abandoned rather than
	// one in progress (cryosparc-tools truncates, then writes; on a loaded
	// node or over NFS it can stall in between).
	AbandonAfter = 2 * time.Second
	// MaxWait bounds the wait for a file that stays incomplete while it
	// keeps changing.
	MaxWait = 10 * time.Second
	// DefaultLockTimeout is how long a change waits for the lock unless told.
	DefaultLockTimeout = 10 * time.Second
	// LockStaleAfter is how long the lock file of a writer on another host
	// must have gone without its holder's refresh (every second while it
	// holds the lock) before the next writer takes it for a dead writer's
	// and removes it: the most that a writer killed while holding the lock
	// delays the others. On its own host they see at once that its process
	// has ended.
	LockStaleAfter = lockfile.StaleAfter
)

// Options tune reading and updating a session file. The zero value is
// usable: the clock is time.Now, expired sessions are dropped, the lock is
// tried once.
type Options struct {
	Now func() time.Time
	// LockTimeout is how long a change waits for another process's lock;
	// zero or less tries once.
	LockTimeout time.Duration
	// KeepExpired keeps sessions that have expired, which cryosparc-tools
	// drops: to list or check them.
	KeepExpired bool
	// Warn receives human-readable warnings (e.g. a file readable by others).
	Warn func(msg string)
	// Sleep pauses between reads of a file caught while being written; nil
	// is time.Sleep. A test passes one that moves its clock instead.
	Sleep func(time.Duration)

	// flock, when set, replaces flock(2) on the lock file: tests make it
	// fail as the file systems that refuse it do.
	flock func(*os.File) error
	// touch, when set, replaces the refresh of a held lock file's
	// modification time: tests make it fail.
	touch func(*os.File) error
	// fault, when set, gives the error an operation on the session file
	// ("open", "read"; "look" and "reread": the check of the replaced file
	// after a rename, and a read of its bytes) is to fail with, as a file server would (ESTALE),
	// or nil: tests make reads fail as NFS makes them.
	fault func(op string) error
	// maxSize, when set, replaces MaxFileSize as the largest file a write
	// may make: tests reach it without writing 256 MiB.
	maxSize int
	mapMin  int64 // 0: the size from which a file is mapped (mapMin)
	// clock, when set, replaces this machine's clock, to compare with the
	// times of files (Now is the clock of sessions' expiry and of
	// waiting): tests move both together.
	clock func() time.Time
	// stamps, when set, gives the modification and change times of a
	// file in place of its own: tests make them coarse.
	stamps func(fi fs.FileInfo) (mtime, ctime time.Time)
}

// base is the clocks and test seams of o, which every read and lock made
// on its behalf keeps, with nothing else set.
func (o *Options) base() Options {
	b := Options{Now: o.now, Sleep: o.sleep}
	if o != nil {
		b.clock, b.stamps = o.clock, o.stamps
	}
	return b
}

// wallNow is this machine's time, to compare with the times of files.
func (o *Options) wallNow() time.Time {
	if o != nil && o.clock != nil {
		return o.clock()
	}
	return time.Now()
}

// timesOf returns the modification and change times of a file.
func (o *Options) timesOf(fi fs.FileInfo) (mtime, ctime time.Time) {
	if o != nil && o.stamps != nil {
		return o.stamps(fi)
	}
	return fi.ModTime(), changeTime(fi)
}

// maxFileSize is the largest file a write may make.
// mapMin is the size from which a file is mapped rather than copied, where
// files are mapped (fast_mmap_unix.go).
const mapMin = 16 << 10

func (o *Options) mapFrom() int64 {
	if o != nil && o.mapMin > 0 {
		return o.mapMin
	}
	return mapMin
}

func (o *Options) maxFileSize() int {
	if o != nil && o.maxSize > 0 {
		return o.maxSize
	}
	return MaxFileSize
}

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// expiryNow is the instant at or before which sessions count as expired.
func (o *Options) expiryNow() time.Time {
	if o != nil && o.KeepExpired {
		return time.Time{}
	}
	return o.now()
}

func (o *Options) sleep(d time.Duration) {
	if o != nil && o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}

func (o *Options) warn(format string, a ...any) {
	if o != nil && o.Warn != nil {
		o.Warn(fmt.Sprintf(format, a...))
	}
}

// flockFunc returns the test's flock, or nil.
func (o *Options) flockFunc() func(*os.File) error {
	if o == nil {
		return nil
	}
	return o.flock
}

// faults returns the test's fault injector, or nil.
func (o *Options) faults() func(op string) error {
	if o == nil {
		return nil
	}
	return o.fault
}
