package lockfile

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

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
	return fmt.Sprintf("process %d on %s (since %s)", h.pid, text.Safe(h.host), h.since.Local().Format("15:04:05"))
}

// self is this process as a holder, found once, when a lock is first
// taken: a command that takes none runs no code for it.
func self() holder {
	me.once.Do(func() {
		host, _ := os.Hostname()
		me.h = holder{pid: os.Getpid(), host: host, space: processSpace(host)}
	})
	return me.h
}

var me struct {
	once sync.Once
	h    holder
}

// Self returns this process's host name and process id, as its lock files
// name them.
func Self() (host string, pid int) {
	h := self()
	return h.host, h.pid
}

func newHolder() holder {
	h := self()
	h.since = time.Now()
	h.nonce = crand.Text()
	return h
}

// lockFile is an exclusive lock file this process created and holds.
type lockFile struct {
	dir  *safefile.Folder // the folder it is in
	name string           // its name there
	path string           // its path, for messages
	f    *os.File

	mu      sync.Mutex
	stopped bool
	timer   *time.Timer
	touch   func(*os.File) error // refreshes f's modification time
	lost    error                // why the lock is no longer held, once a refresh found out
}

// createHeld creates the lock file at path, in the folder d, holding h.
// fs.ErrExist when it exists. The line is written first to a file of this writer's own, named
// as the temporary files a lock holder clears, then linked to path, which
// link(2) does only when the name is free: so the lock file is never seen
// empty, even when its writer is killed between creating and writing it (an
// empty one could only be judged by its age). Where hard links are
// refused, path is created exclusively and then written.
func createHeld(d *safefile.Folder, path string, want Owner, h holder) (*lockFile, error) {
	target := strings.TrimSuffix(path, ".lock.held")
	name, tmpName := filepath.Base(path), safefile.TempPrefix(target)+"held-"+h.nonce
	tmp := filepath.Join(filepath.Dir(path), tmpName)
	f, err := createWithLine(d, tmp, path, want, h)
	if err != nil {
		return nil, err
	}
	err = Named(d.Link(tmpName, name), path)
	d.Remove(tmpName)
	switch {
	case err == nil:
		return &lockFile{dir: d, name: name, path: path, f: f}, nil
	case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		// Held by another; or its temporary file cleared by a holder
		// meanwhile: try again.
		f.Close()
		return nil, fs.ErrExist
	case !linksRefused(err):
		f.Close()
		return nil, fmt.Errorf("%w: creating the lock file %s: %w", safefile.ErrUnsafe, text.Safe(path), err)
	}
	f.Close()
	if f, err = createWithLine(d, path, path, want, h); err != nil {
		return nil, err
	}
	return &lockFile{dir: d, name: name, path: path, f: f}, nil
}

// createWithLine creates the file at name, in the folder d, exclusively
// and writes h's line into it; on failure nothing is left. path names the
// lock file in messages.
func createWithLine(d *safefile.Folder, name, path string, want Owner, h holder) (*os.File, error) {
	f, err := CreateExclusive(d, name, want)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(h.line()); err != nil {
		f.Close()
		d.Remove(filepath.Base(name))
		return nil, fmt.Errorf("%w: writing the lock file %s: %w", safefile.ErrUnsafe, text.Safe(path), err)
	}
	return f, nil
}

// linksRefused reports whether err is a file system's refusal of hard
// links (some FUSE and CIFS mounts).
func linksRefused(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EMLINK)
}

// refresh keeps the lock file's modification time recent while it is held,
// so that other hosts do not take it for a dead holder's. A refresh that
// fails ends the refreshes and marks the lock lost: another host may take
// a lock file that is not refreshed for StaleAfter, so its holder must
// write nothing more under it (see Lock.Held).
func (l *lockFile) refresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || l.lost != nil {
		return
	}
	if err := l.touch(l.f); err != nil {
		l.lost = fmt.Errorf("refreshing the lock file %s failed: %w", text.Safe(l.path), err)
		return
	}
	l.timer = time.AfterFunc(RefreshEvery, l.refresh)
}

// failed returns why a refresh failed, or nil.
func (l *lockFile) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
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
		if now, err := l.dir.Lstat(l.name); err == nil && os.SameFile(mine, now) {
			l.dir.Remove(l.name)
		}
	}
}

// takeHeld creates target's exclusive lock file in target's folder d,
// waiting until deadline for another holder to finish and removing the
// lock files of holders that died; touch refreshes it while it is held.
func takeHeld(d *safefile.Folder, target string, want Owner, c clock, deadline time.Time, timedOut func(string) error, touch func(*os.File) error) (*lockFile, error) {
	path := heldPath(target)
	wait := newPoll(c, deadline)
	quick := 0 // tries in a row without a pause
	for {
		l, err := createHeld(d, path, want, newHolder())
		if err == nil {
			l.mu.Lock()
			l.touch = touch
			l.timer = time.AfterFunc(RefreshEvery, l.refresh)
			l.mu.Unlock()
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		seen, err := inspect(d, path, want)
		if err != nil {
			return nil, err
		}
		if seen.gone {
			if quick++; quick < 10 {
				continue
			}
		} else if seen.stale(d, target, c) != "" {
			free, err := breakStale(d, target, want, c, seen)
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
		if !wait.next() {
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

// inspect reads the lock file at path, in the folder d, never through a
// link. A lock file that is a link or not a regular file is refused: it is
// not one this program made.
func inspect(d *safefile.Folder, path string, want Owner) (seenLock, error) {
	f, err := d.OpenFile(filepath.Base(path), os.O_RDONLY|safefile.ONonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return seenLock{gone: true}, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		// Created by root a moment ago and not yet given to its owner, or
		// left so: never judged stale (its age, read without opening it,
		// may come from a cache), so waited for.
		fi, err := d.Lstat(filepath.Base(path))
		if errors.Is(err, fs.ErrNotExist) {
			return seenLock{gone: true}, nil
		}
		if err != nil {
			return seenLock{}, fmt.Errorf("%w: %w", safefile.ErrUnsafe, Named(err, path))
		}
		if !fi.Mode().IsRegular() {
			return seenLock{}, want.Check(path, fi)
		}
		return seenLock{fi: fi, unreadable: true}, nil
	}
	if err != nil {
		return seenLock{}, want.RefuseOpen(d, path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return seenLock{}, fmt.Errorf("%w: %w", safefile.ErrUnsafe, err)
	}
	if !fi.Mode().IsRegular() {
		return seenLock{}, want.Check(path, fi)
	}
	data, _ := io.ReadAll(io.LimitReader(f, 1024))
	h, ok := parseHolder(data)
	return seenLock{fi: fi, h: h, parsed: ok}, nil
}

// stale says why the lock file seen beside target, in its folder d, was
// left by a holder that is gone, or "" when it may still be held; c is
// this machine's clock.
func (s seenLock) stale(d *safefile.Folder, target string, c clock) string {
	if s.unreadable {
		return ""
	}
	if s.parsed && s.h.space == self().space {
		// On this host the holder's process tells: a dead one is taken
		// over at once. On Linux, where a process's start time tells a
		// reused pid apart, a live one never is, however long it holds
		// the lock (it may be stopped, swapped out, or stalled on a file
		// system); elsewhere the age rule below still applies to it.
		if !processAlive(s.h.pid, s.h.since) {
			return fmt.Sprintf("process %d has ended", s.h.pid)
		}
		if runtime.GOOS == "linux" {
			return ""
		}
	}
	mtime := s.fi.ModTime()
	if c.now().Sub(mtime) < StaleAfter {
		// This machine's clock says it is recent; a clock behind the
		// file system's only makes the wait longer.
		return ""
	}
	// This clock may be ahead: ask the file system's.
	if age := fsNow(d, target).Sub(mtime); age >= StaleAfter {
		return fmt.Sprintf("not refreshed for %s", text.Duration(age))
	}
	return ""
}

// fsNow returns the time by the clock of the file system that holds
// target: over NFS, the server's, read from a file created beside it, in
// its folder d, for a moment (named as the temporary files that a writer
// removes when one was left). Where no file can be created there, this
// machine's clock.
func fsNow(d *safefile.Folder, target string) time.Time {
	name := safefile.TempPrefix(target) + "clock-" + crand.Text()
	f, err := d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return time.Now()
	}
	defer d.Remove(name)
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
func breakStale(d *safefile.Folder, target string, want Owner, c clock, seen seenLock) (bool, error) {
	held, bp := heldPath(target), breakPath(target)
	b, err := createHeld(d, bp, want, newHolder())
	if errors.Is(err, fs.ErrExist) {
		// Another waiter is breaking it, or died doing so.
		other, err := inspect(d, bp, want)
		if err != nil || other.gone || other.stale(d, target, c) == "" {
			return false, err
		}
		if again, err := inspect(d, bp, want); err == nil && again.same(other) {
			d.Remove(filepath.Base(bp))
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer b.release()
	now, err := inspect(d, held, want)
	if err != nil || now.gone {
		return err == nil, err
	}
	if !now.same(seen) || now.stale(d, target, c) == "" {
		return false, nil
	}
	return d.Remove(filepath.Base(held)) == nil, nil
}

// who says who holds the lock file seen at path, for a message.
func (s seenLock) who(path string) string {
	switch {
	case s.parsed:
		return s.h.String()
	case s.unreadable:
		return fmt.Sprintf("a process whose lock file %s this user cannot read (if no other program uses the session file, remove it: rm %s)", text.Safe(path), text.Safe(path))
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
