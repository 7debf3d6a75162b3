//go:build unix

package lockfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// The lock's behaviour under a writer of sessions (kills, other processes,
// root, flock refused during an update) is tested in store, whose Update
// takes it; here, what needs the lock alone.

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// refused is the flock of a file system that refuses it with e.
func refused(e syscall.Errno) func(*os.File) error {
	return func(*os.File) error { return e }
}

// plantHeld leaves a lock file at path's held path as a holder in space
// would, last refreshed at mtime.
func plantHeld(t *testing.T, path, space string, mtime time.Time) holder {
	t.Helper()
	h := holder{pid: 1, host: "node7", space: space, since: mtime, nonce: "planted"}
	if err := os.WriteFile(heldPath(path), []byte(h.line()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(heldPath(path), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return h
}

// openFolder opens the folder of the file at path, closed when t ends.
func openFolder(t *testing.T, path string) *safefile.Folder {
	t.Helper()
	d, err := safefile.OpenFolder(filepath.Dir(path), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// TestLockKindsExcludeEachOther: a writer whose flock works and one whose
// flock is refused (a mixed cluster) never hold the lock at once, in either
// order.
func TestLockKindsExcludeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	works, fails := Options{}, Options{Flock: refused(syscall.ENOLCK)}
	for _, c := range []struct {
		name         string
		first, other Options
		failsFirst   bool
	}{{"flock first", works, fails, false}, {"fallback first", fails, works, true}, {"both fallback", fails, fails, true}} {
		t.Run(c.name, func(t *testing.T) {
			unlock, err := Take(path, c.first, nil)
			if err != nil {
				t.Fatal(err)
			}
			o := c.other
			o.Timeout = 30 * time.Millisecond
			if u, err := Take(path, o, nil); !errors.Is(err, ErrTimeout) {
				if err == nil {
					u.Unlock()
				}
				t.Fatalf("second writer while the first holds the lock: %v, want ErrTimeout", err)
			} else if !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) && c.failsFirst {
				t.Errorf("the message does not name the holder: %v", err)
			}
			unlock.Unlock()
			u, err := Take(path, o, nil)
			if err != nil {
				t.Fatalf("second writer once the first let go: %v", err)
			}
			u.Unlock()
		})
	}
}

// TestLockRefreshed: a holder keeps its lock file's modification time
// recent, so that another host never takes a long hold for a dead one.
func TestLockRefreshed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	unlock, err := Take(path, Options{Flock: refused(syscall.ENOLCK)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock.Unlock()
	old := time.Now().Add(-time.Hour)
	os.Chtimes(heldPath(path), old, old)
	deadline := time.Now().Add(10 * RefreshEvery)
	for {
		fi, err := os.Stat(heldPath(path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(old.Add(time.Minute)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock file was not refreshed in %s", 10*RefreshEvery)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLockBreakRechecks: a waiter that judged a lock file stale removes it
// only if it is still that file: when another waiter has broken it and
// taken the lock meanwhile, the new holder's lock file stays.
func TestLockBreakRechecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	d := openFolder(t, path)
	want := OwnerIn(d, nil)
	plantHeld(t, path, "another-boot/1", time.Now().Add(-time.Hour))
	seen, err := inspect(d, heldPath(path), want)
	if err != nil || seen.stale(d, path, Options{}.clock()) == "" {
		t.Fatalf("the planted lock file is not stale: %v", err)
	}
	// Another waiter breaks it and takes the lock.
	if free, err := breakStale(d, path, want, Options{}.clock(), seen); !free || err != nil {
		t.Fatalf("breaking a stale lock: %v %v", free, err)
	}
	unlock, err := Take(path, Options{Flock: refused(syscall.ENOSYS)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock.Unlock()
	mine, _ := os.ReadFile(heldPath(path))
	// This waiter, late, acts on what it saw before.
	if free, err := breakStale(d, path, want, Options{}.clock(), seen); free || err != nil {
		t.Errorf("breaking the lock judged stale, now another's: %v %v; want it left alone", free, err)
	}
	if now, _ := os.ReadFile(heldPath(path)); string(now) != string(mine) {
		t.Errorf("the new holder's lock file was removed or changed: %q", now)
	}
	if _, err := os.Lstat(breakPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the break lock is left behind: %v", err)
	}
}

// FuzzParseHolder: what a lock file line parses to writes back as the same
// line, and parsing never panics.
func FuzzParseHolder(f *testing.F) {
	f.Add([]byte(holder{pid: 12, host: "node7", space: "b/4026531836", since: fixedNow, nonce: "n"}.line()))
	f.Add([]byte(""))
	f.Add([]byte("pid=1 space=x nonce=y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, ok := parseHolder(data)
		if !ok {
			return
		}
		again, ok := parseHolder([]byte(h.line()))
		if !ok || again.pid != h.pid || again.nonce != fieldSafe(h.nonce) || again.space != fieldSafe(h.space) || !again.since.Equal(h.since) {
			t.Errorf("%q parsed to %+v, which writes back as %q, parsed to %+v", data, h, h.line(), again)
		}
	})
}

// TestLockLiveHolderNeverTakenOver: on the same host, a holder whose
// process still runs keeps the lock however old its lock file (it may be
// stopped or stalled for longer than StaleAfter); one whose pid now
// belongs to a process started after it took the lock has ended.
func TestLockLiveHolderNeverTakenOver(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a live holder is told from a reused pid by /proc on Linux only")
	}
	old := time.Now().Add(-10 * StaleAfter)
	for _, c := range []struct {
		name  string
		since time.Time
		taken bool
	}{
		{"stalled for minutes", time.Now(), false},
		{"pid reused since", time.Now().Add(-time.Hour * 24 * 365 * 30), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			// This test's own process stands for the live holder: its pid,
			// its host, its process space.
			h := self()
			h.since, h.nonce = c.since, "stalled"
			if err := os.WriteFile(heldPath(path), []byte(h.line()), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(heldPath(path), old, old)
			l, err := Take(path, Options{}, nil)
			if err == nil {
				l.Unlock()
			}
			if c.taken && err != nil {
				t.Fatalf("a lock whose pid was reused: %v", err)
			}
			if !c.taken && !errors.Is(err, ErrTimeout) {
				t.Fatalf("a live holder's lock, %s old, was taken over: %v", time.Since(old).Round(time.Second), err)
			}
		})
	}
}

// TestHeldNeverEmpty: the lock file appears with its line already in it
// (written to a file of the writer's own, then linked), so a writer killed
// between creating and writing leaves no empty lock file that others could
// judge only by its age. (That what it leaves instead, a temporary file,
// is cleared by the next holder is store's TestHeldTempCleared.)
func TestHeldNeverEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	d := openFolder(t, path)
	h := newHolder()
	l, err := createHeld(d, heldPath(path), OwnerIn(d, nil), h)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(heldPath(path))
	if string(data) != h.line() {
		t.Errorf("the lock file holds %q, want its line", data)
	}
	if _, err := createHeld(d, heldPath(path), OwnerIn(d, nil), newHolder()); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second holder: %v, want fs.ErrExist", err)
	}
	l.release()
	if _, err := os.Lstat(heldPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock file is left after its release: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), safefile.TempPrefix(path)+"*"))
	if len(left) != 0 {
		t.Errorf("the holder's own file is left beside the lock: %v", left)
	}
}

// BenchmarkLock takes and releases the lock, with flock working and with
// flock refused (the lock file alone).
func BenchmarkLock(b *testing.B) {
	for _, c := range []struct {
		name  string
		flock func(f *os.File) error
	}{{"flock", nil}, {"refused", refused(syscall.ENOLCK)}} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "auth.json")
			for b.Loop() {
				l, err := Take(path, Options{Flock: c.flock}, nil)
				if err != nil {
					b.Fatal(err)
				}
				l.Unlock()
			}
		})
	}
}

// TestLockWaitsByItsClock: a wait for a held lock goes by the clock in
// Options: it pauses through Sleep, never time.Sleep, and ends with
// ErrTimeout once its pauses add up to Timeout, even by a clock that never
// moves (as a test's may not), for both kinds of lock.
func TestLockWaitsByItsClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	works, fails := Options{}, Options{Flock: refused(syscall.ENOLCK)}
	for _, c := range []struct {
		name   string
		holder Options
	}{{"flock held", works}, {"lock file held", fails}} {
		t.Run(c.name, func(t *testing.T) {
			held, err := Take(path, c.holder, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Unlock()
			// About 200 tries; by time.Sleep, at least timeout of real time.
			const timeout = 5 * time.Second
			var slept time.Duration
			pauses := 0
			o := c.holder
			o.Timeout = timeout
			o.Now = func() time.Time { return fixedNow }
			o.Sleep = func(d time.Duration) { slept += d; pauses++ }
			start := time.Now()
			if u, err := Take(path, o, nil); !errors.Is(err, ErrTimeout) {
				if err == nil {
					u.Unlock()
				}
				t.Fatalf("a second writer while the lock is held: %v, want ErrTimeout", err)
			}
			if slept != timeout || pauses < 2 {
				t.Errorf("paused %d times for %s in all, want several adding up to %s", pauses, slept, timeout)
			}
			if d := time.Since(start); d >= timeout {
				t.Errorf("the wait took %s of real time: it slept, not through Options.Sleep", d)
			}
		})
	}
}
