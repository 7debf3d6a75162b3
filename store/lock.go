package store

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
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
// LockStaleAfter by the file system's clock (another host): a holder
// refreshes it every lockRefresh while it holds the lock. A stale lock is
// removed only under auth.json.lock.break, itself created exclusively, after
// checking that it is still the one judged stale, so that two waiters that
// both judge it stale never remove each other's fresh lock.

// lockRefresh is how often a holder refreshes its lock file's modification
// time, far below LockStaleAfter.
const lockRefresh = time.Second

// Waiting for a lock polls with a backoff, never blocks in the kernel: a
// library caller's goroutine is not left blocked once the timeout passed.
const (
	pollFirst = time.Millisecond
	pollMax   = 25 * time.Millisecond
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
	if err := mkdirAll(filepath.Dir(target)); err != nil {
		return "", nil, err
	}
	unlock, err = lock(target, opt, fi)
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

func lockPath(target string) string  { return target + ".lock" }
func heldPath(target string) string  { return target + ".lock.held" }
func breakPath(target string) string { return target + ".lock.break" }

// lock takes the exclusive lock on target, waiting at most the lock timeout
// (zero: trying once). ref is the session file, nil when there is none yet.
// The lock files must belong to the session file's owner (for a new file:
// to the folder's owner when root creates it, else to this user): root
// gives those it creates to that owner, and refuses any that is a link, is
// not a regular file or belongs to someone else, so that no one can lead it
// to open another path.
func lock(target string, opt *Options, ref fs.FileInfo) (func(), error) {
	var timeout time.Duration
	tryFlock := platformFlock
	if opt != nil {
		timeout = opt.LockTimeout
		if opt.flock != nil {
			tryFlock = opt.flock
		}
	}
	deadline := time.Now().Add(timeout)
	want := lockOwnerOf(filepath.Dir(target), ref)
	lp := lockPath(target)
	timedOut := func(who string) error {
		if timeout <= 0 {
			return fmt.Errorf("%w %s: %s holds it", ErrLockTimeout, printable(lp), who)
		}
		return fmt.Errorf("%w %s after %s: %s holds it", ErrLockTimeout, printable(lp), timeout, who)
	}

	f, err := openLockFile(lp, want)
	if err != nil {
		return nil, err
	}
	wait := poll{}
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
			return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, printable(lp), err)
		}
		if !wait.next(deadline) {
			f.Close()
			return nil, timedOut("another process")
		}
	}
	release := func() {
		if f != nil {
			f.Close() // releases the flock
		}
	}

	h, err := takeHeld(target, want, deadline, timedOut)
	if err != nil {
		release()
		return nil, err
	}
	return func() {
		h.release()
		release()
	}, nil
}

// owner of the lock files, as lockOwnerOf works it out.
type lockOwner struct {
	uid, gid int
	known    bool // false where files have no Unix owner (Windows)
	give     bool // root creates the files: chown them to uid:gid
}

// lockOwnerOf returns whom the lock files beside a session file in dir
// must belong to: the session file's owner (ref); for a new file, the
// folder's owner when root creates it, else this user.
func lockOwnerOf(dir string, ref fs.FileInfo) lockOwner {
	root := os.Geteuid() == 0
	if ref == nil && root {
		ref, _ = os.Stat(dir)
	}
	if ref != nil {
		if uid, gid, ok := owner(ref); ok {
			return lockOwner{uid: uid, gid: gid, known: true, give: root}
		}
		return lockOwner{}
	}
	if uid := os.Geteuid(); uid >= 0 {
		return lockOwner{uid: uid, gid: os.Getegid(), known: true}
	}
	return lockOwner{}
}

// check refuses a lock file that is not a regular file or belongs to
// someone other than want.
func (want lockOwner) check(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: the lock file %s is not a regular file (%s); remove it (rm %s) while no other program uses the session file",
			ErrUnsafe, printable(path), kind(fi.Mode()), printable(path))
	}
	if !want.known {
		return nil
	}
	if uid, _, ok := owner(fi); ok && uid != want.uid {
		return fmt.Errorf("%w: the lock file %s belongs to user %d, not to user %d, the owner of the session file (an older version run as root leaves it so); remove it (rm %s) while no other program uses the session file",
			ErrUnsafe, printable(path), uid, want.uid, printable(path))
	}
	return nil
}

// refuseOpen explains why a lock file could not be opened.
func (want lockOwner) refuseOpen(path string, err error) error {
	if isLoop(err) {
		return fmt.Errorf("%w: the lock file %s is a symbolic link, which is never followed; remove it (rm %s) while no other program uses the session file",
			ErrUnsafe, printable(path), printable(path))
	}
	if errors.Is(err, fs.ErrPermission) {
		if fi, lerr := os.Lstat(path); lerr == nil {
			if cerr := want.check(path, fi); cerr != nil {
				return cerr
			}
		}
	}
	return fmt.Errorf("%w: opening the lock file %s: %w", ErrUnsafe, printable(path), err)
}

// openLockFile opens the flock file at path for writing, never through a
// link, creating it (exclusively, then given to its owner) when missing.
func openLockFile(path string, want lockOwner) (*os.File, error) {
	for range 3 { // missing, then created by another process meanwhile
		f, err := os.OpenFile(path, os.O_RDWR|oNoFollow|oNonBlock, 0)
		if errors.Is(err, fs.ErrNotExist) {
			f, err = createExclusive(path, want)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return f, nil
		}
		if err != nil {
			return nil, want.refuseOpen(path, err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = want.check(path, fi)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: the lock file %s keeps appearing and disappearing; is another program removing it?", ErrUnsafe, printable(path))
}

// createExclusive creates path, which must not exist, 0600, and gives it
// to its owner when root creates it. fs.ErrExist when it exists.
func createExclusive(path string, want lockOwner) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: creating the lock file %s: %w", ErrUnsafe, printable(path), err)
	}
	if want.known && want.give && (want.uid != os.Geteuid() || want.gid != os.Getegid()) {
		if err := f.Chown(want.uid, want.gid); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("%w: giving the lock file %s to user %d: %w", ErrUnsafe, printable(path), want.uid, err)
		}
	}
	return f, nil
}

// poll paces the retries of a lock: 1 ms, doubling to 25 ms, with jitter
// so that waiters do not retry in step, never past the deadline.
type poll struct{ d time.Duration }

// next sleeps before the next try and reports whether there is one.
func (p *poll) next(deadline time.Time) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	if p.d == 0 {
		p.d = pollFirst
	}
	d := p.d/2 + rand.N(p.d/2+1)
	p.d = min(2*p.d, pollMax)
	time.Sleep(min(d, left))
	return true
}

// holder is what a lock file says about the process holding it.
type holder struct {
	pid   int
	host  string // for people: the host name
	space string // the host and process namespace its pid belongs to
	since time.Time
	nonce string // tells two lock files apart
}

func (h holder) line() string {
	return fmt.Sprintf("pid=%d host=%s space=%s since=%s nonce=%s\n",
		h.pid, fieldSafe(h.host), fieldSafe(h.space), h.since.UTC().Format(time.RFC3339Nano), fieldSafe(h.nonce))
}

func fieldSafe(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '=' || r >= 0x7f {
			return '_'
		}
		return r
	}, s)
}

// parseHolder reads a lock file's line; ok is false for anything else
// (empty: its writer died before writing it, or it is still writing it).
func parseHolder(data []byte) (h holder, ok bool) {
	line, _, complete := strings.Cut(string(data), "\n")
	if !complete {
		return holder{}, false
	}
	for _, field := range strings.Fields(line) {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "pid":
			h.pid, _ = strconv.Atoi(v)
		case "host":
			h.host = v
		case "space":
			h.space = v
		case "since":
			h.since, _ = time.Parse(time.RFC3339Nano, v)
		case "nonce":
			h.nonce = v
		}
	}
	return h, h.pid > 0 && h.space != "" && h.nonce != ""
}

func (h holder) String() string {
	return fmt.Sprintf("process %d on %s (since %s)", h.pid, printable(h.host), h.since.Local().Format("15:04:05"))
}

var self = sync.OnceValue(func() holder {
	host, _ := os.Hostname()
	return holder{pid: os.Getpid(), host: host, space: processSpace(host)}
})

func newHolder() holder {
	h := self()
	h.since = time.Now()
	h.nonce = crand.Text()
	return h
}

// lockFile is an exclusive lock file this process created and holds.
type lockFile struct {
	path string
	f    *os.File

	mu      sync.Mutex
	stopped bool
	timer   *time.Timer
}

// createHeld creates path exclusively and writes h into it. fs.ErrExist
// when it exists.
func createHeld(path string, want lockOwner, h holder) (*lockFile, error) {
	f, err := createExclusive(path, want)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(h.line()); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("%w: writing the lock file %s: %w", ErrUnsafe, printable(path), err)
	}
	return &lockFile{path: path, f: f}, nil
}

// refresh keeps the lock file's modification time recent while it is held,
// so that other hosts do not take it for a dead holder's.
func (l *lockFile) refresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	touch(l.f)
	l.timer = time.AfterFunc(lockRefresh, l.refresh)
}

// release removes the lock file, if it is still this one.
func (l *lockFile) release() {
	l.mu.Lock()
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	mine, err := l.f.Stat()
	l.f.Close() // first: Windows removes no open file
	if err == nil {
		if now, err := os.Lstat(l.path); err == nil && os.SameFile(mine, now) {
			os.Remove(l.path)
		}
	}
}

// takeHeld creates target's exclusive lock file, waiting until deadline
// for another holder to finish and removing the lock files of holders
// that died.
func takeHeld(target string, want lockOwner, deadline time.Time, timedOut func(string) error) (*lockFile, error) {
	path := heldPath(target)
	wait := poll{}
	quick := 0 // tries in a row without a pause
	for {
		l, err := createHeld(path, want, newHolder())
		if err == nil {
			l.mu.Lock()
			l.timer = time.AfterFunc(lockRefresh, l.refresh)
			l.mu.Unlock()
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		seen, err := inspect(path, want)
		if err != nil {
			return nil, err
		}
		if seen.gone {
			if quick++; quick < 10 {
				continue
			}
		} else if seen.stale(target) != "" {
			free, err := breakStale(target, want, seen)
			if err != nil {
				return nil, err
			}
			if free {
				if quick++; quick < 10 {
					continue
				}
			}
		}
		quick = 0
		if !wait.next(deadline) {
			return nil, timedOut(seen.who(path))
		}
	}
}

// seenLock is what was found at a lock file's path.
type seenLock struct {
	gone       bool
	unreadable bool
	fi         fs.FileInfo
	h          holder
	parsed     bool
}

// inspect reads the lock file at path, never through a link. A lock file
// that is a link or not a regular file is refused: it is not one this
// program made.
func inspect(path string, want lockOwner) (seenLock, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return seenLock{gone: true}, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		// Created by root a moment ago and not yet given to its owner, or
		// left so: never judged stale (its age, read without opening it,
		// may come from a cache), so waited for.
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return seenLock{gone: true}, nil
		}
		if err != nil {
			return seenLock{}, fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if !fi.Mode().IsRegular() {
			return seenLock{}, want.check(path, fi)
		}
		return seenLock{fi: fi, unreadable: true}, nil
	}
	if err != nil {
		return seenLock{}, want.refuseOpen(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return seenLock{}, fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	if !fi.Mode().IsRegular() {
		return seenLock{}, want.check(path, fi)
	}
	data, _ := io.ReadAll(io.LimitReader(f, 1024))
	h, ok := parseHolder(data)
	return seenLock{fi: fi, h: h, parsed: ok}, nil
}

// stale says why the lock file seen beside target was left by a holder
// that is gone, or "" when it may still be held.
func (s seenLock) stale(target string) string {
	if s.unreadable {
		return ""
	}
	if s.parsed && s.h.space == self().space && !processAlive(s.h.pid) {
		return fmt.Sprintf("process %d has ended", s.h.pid)
	}
	mtime := s.fi.ModTime()
	if time.Since(mtime) < LockStaleAfter {
		// This machine's clock says it is recent; a clock behind the
		// file system's only makes the wait longer.
		return ""
	}
	// This clock may be ahead: ask the file system's.
	if age := fsNow(target).Sub(mtime); age >= LockStaleAfter {
		return fmt.Sprintf("not refreshed for %s", age.Round(time.Second))
	}
	return ""
}

// fsNow returns the time by the clock of the file system that holds
// target: over NFS, the server's, read from a file created beside it for a
// moment (named as the temporary files that a writer removes when one was
// left). Where no file can be created there, this machine's clock.
func fsNow(target string) time.Time {
	f, err := os.CreateTemp(filepath.Dir(target), tempPrefix(target)+"clock-")
	if err != nil {
		return time.Now()
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return time.Now()
	}
	return fi.ModTime()
}

// breakStale removes the stale lock file seen at target's held path, under
// the break lock, once it has checked that it is still the same file and
// still stale. It reports whether the lock file may now be free.
func breakStale(target string, want lockOwner, seen seenLock) (bool, error) {
	held, bp := heldPath(target), breakPath(target)
	b, err := createHeld(bp, want, newHolder())
	if errors.Is(err, fs.ErrExist) {
		// Another waiter is breaking it, or died doing so.
		other, err := inspect(bp, want)
		if err != nil || other.gone || other.stale(target) == "" {
			return false, err
		}
		if again, err := inspect(bp, want); err == nil && again.same(other) {
			os.Remove(bp)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer b.release()
	now, err := inspect(held, want)
	if err != nil || now.gone {
		return err == nil, err
	}
	if !now.same(seen) || now.stale(target) == "" {
		return false, nil
	}
	return os.Remove(held) == nil, nil
}

// who says who holds the lock file seen at path, for a message.
func (s seenLock) who(path string) string {
	switch {
	case s.parsed:
		return s.h.String()
	case s.unreadable:
		return fmt.Sprintf("a process whose lock file %s this user cannot read (if no other program uses the session file, remove it: rm %s)", printable(path), printable(path))
	}
	return "another process"
}

// same reports whether two looks at a lock file's path saw the same file,
// unchanged.
func (s seenLock) same(o seenLock) bool {
	if s.gone || o.gone || !os.SameFile(s.fi, o.fi) || !s.fi.ModTime().Equal(o.fi.ModTime()) {
		return false
	}
	if s.parsed || o.parsed {
		return s.parsed && o.parsed && s.h.nonce == o.h.nonce
	}
	return true
}
