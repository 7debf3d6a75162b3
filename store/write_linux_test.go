package store

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReplacedReadOnlyWhenChanged: after the rename, the file replaced is
// read again only when its size or times say it may have changed since it
// was read, or were too recent then to say so (within their timestamp
// window). A save into it is merged as before, whenever it comes: between
// the read and the rename, or after the rename through a descriptor opened
// before it; whole, of the same size with its modification time set back
// (caught by the change time), or truncated while its times say nothing
// changed (caught by the size, as ext4 shows a truncation).
func TestReplacedReadOnlyWhenChanged(t *testing.T) {
	const (
		seed = `{"https://cs.example.com": {"a@x": {"token": {"access_token": "A", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
		// theirs is seed's size: another email of the same length.
		theirs = `{"https://cs.example.com": {"w@x": {"token": {"access_token": "A", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	)
	coarse := func(fi fs.FileInfo) (time.Time, time.Time) {
		return fi.ModTime().Truncate(time.Second), changeTime(fi).Truncate(time.Second)
	}
	longAgo := time.Now().Add(-time.Hour)
	frozen := func(fs.FileInfo) (time.Time, time.Time) { return longAgo, longAgo }
	var (
		held      *os.File  // opened before the rename, as a save does
		seedMtime time.Time // the modification time read
	)
	write := func(t *testing.T) {
		later(t, held, mtimeOf, func() error {
			_, err := held.WriteAt([]byte(theirs), 0)
			return err
		})
	}
	tests := []struct {
		name string
		// ahead is how far this machine's clock is set ahead of the file's
		// times; stamps, when set, gives the file's times.
		ahead  time.Duration
		stamps func(fs.FileInfo) (time.Time, time.Time)
		// beforeRename runs after the read (held is then open on the
		// file); afterRename at the look after the rename; onSleep at the
		// update's pauses.
		beforeRename, afterRename func(t *testing.T)
		onSleep                   func(n int)
		read                      bool // the bytes are read after the rename
		want                      []string
	}{
		{name: "untouched, an hour old", ahead: time.Hour,
			want: []string{"a@x", "ours@x"}},
		{name: "untouched, 3 s old", ahead: 3 * time.Second,
			want: []string{"a@x", "ours@x"}},
		{name: "untouched, changed within the window", read: true,
			want: []string{"a@x", "ours@x"}},
		{name: "untouched, 3 s old by whole-second times", ahead: 3 * time.Second, stamps: coarse, read: true,
			want: []string{"a@x", "ours@x"}},
		{name: "written before the rename", ahead: time.Hour, read: true,
			beforeRename: write,
			want:         []string{"a@x", "ours@x", "w@x"}},
		{name: "written before the rename, modification time set back", ahead: time.Hour, read: true,
			beforeRename: func(t *testing.T) { write(t); setBack(t, held, seedMtime) },
			want:         []string{"a@x", "ours@x", "w@x"}},
		{name: "written after the rename", ahead: time.Hour, read: true,
			afterRename: write,
			want:        []string{"a@x", "ours@x", "w@x"}},
		{name: "written after the rename, modification time set back", ahead: time.Hour, read: true,
			afterRename: func(t *testing.T) { write(t); setBack(t, held, seedMtime) },
			want:        []string{"a@x", "ours@x", "w@x"}},
		{name: "truncated after the rename, times unchanged, written while the update waits", stamps: frozen, read: true,
			afterRename: func(t *testing.T) {
				if err := held.Truncate(0); err != nil {
					t.Fatal(err)
				}
			},
			onSleep: func(n int) {
				if n == 3 {
					held.WriteAt([]byte(theirs), 0)
				}
			},
			want: []string{"a@x", "ours@x", "w@x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			seedMtime = fi.ModTime()
			looks, rereads, sleeps := 0, 0, 0
			opt := withFault(testOptions(t), func(op string) error {
				switch op {
				case "look":
					if looks++; looks == 1 && tt.afterRename != nil {
						tt.afterRename(t)
					}
				case "reread":
					rereads++
				}
				return nil
			})
			opt.clock = func() time.Time { return time.Now().Add(tt.ahead) }
			opt.stamps = tt.stamps
			opt.Sleep = func(time.Duration) {
				if sleeps++; tt.onSleep != nil {
					tt.onSleep(sleeps)
				}
			}
			err = Update(path, opt, func(s *Sessions) error {
				var err error
				if held, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
					return err
				}
				if tt.beforeRename != nil {
					tt.beforeRename(t)
				}
				return insertOne("https://cs.example.com", "ours@x", "O")(s)
			})
			held.Close()
			if err != nil {
				t.Fatal(err)
			}
			if looks == 0 {
				t.Fatal("no look at the replaced file after the rename")
			}
			if tt.read && rereads == 0 || !tt.read && rereads != 0 {
				t.Errorf("the replaced file was read %d times after the rename, want read: %v", rereads, tt.read)
			}
			s, err := Load(path, testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sess := range s.All() {
				got = append(got, sess.Email)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("the file holds %q, want %q", got, tt.want)
			}
		})
	}
}

// later repeats what change does to the file f has open, 1 ms apart, until
// the time field of f that it moves (by what times returns) differs from
// the one it had before (at most 5 s): the change then came in a later
// clock tick, as any change does after a read of a file whose times were
// settled, which the test's clock only pretends.
func later(t *testing.T, f *os.File, times func(*unix.Stat_t) unix.Timespec, change func() error) {
	t.Helper()
	var was, now unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &was); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fstat(int(f.Fd()), &now); err != nil {
			t.Fatal(err)
		}
		if times(&now) != times(&was) || time.Now().After(deadline) {
			return
		}
	}
}

func mtimeOf(st *unix.Stat_t) unix.Timespec { return st.Mtim }
func ctimeOf(st *unix.Stat_t) unix.Timespec { return st.Ctim }

// setBack sets the modification time of the file f has open to mtime, as a
// program restoring it would (through /proc: f's name may name another
// file by now), in a later clock tick than its last change.
func setBack(t *testing.T, f *os.File, mtime time.Time) {
	t.Helper()
	ts := unix.NsecToTimespec(mtime.UnixNano())
	proc := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	later(t, f, ctimeOf, func() error { return unix.UtimesNanoAt(unix.AT_FDCWD, proc, []unix.Timespec{ts, ts}, 0) })
}
