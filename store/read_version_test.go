package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeFS is a fake clock that drives everything load looks at: Options.Now
// and Sleep, this machine's clock (Options.clock) and the times the file system
// gives files, which are the clock's time of the file's last write
// (recorded by write), cut to the given resolution, as a file system with
// coarse timestamps records them. A file it did not write (the clock probe
// fileAge creates) has the clock's present time, cut the same way.
type fakeFS struct {
	t       *testing.T
	now     time.Time
	res     time.Duration
	written map[string]time.Time // base name → time of the last write
	sleeps  int
	onSleep func(n int)
}

func newFakeFS(t *testing.T, res time.Duration) *fakeFS {
	// A whole second, so that each test knows which writes share a
	// timestamp; times finer than a second start half-way through one,
	// where their nanoseconds are not all zero.
	now := time.Now().Truncate(time.Second)
	if res < time.Second {
		now = now.Add(500*time.Millisecond + 12345)
	}
	c := &fakeFS{t: t, now: now, res: res, written: map[string]time.Time{}}
	return c
}

// write rewrites the file in place, as cryosparc-tools does (truncate,
// then write), at the clock's present time.
func (c *fakeFS) write(path string, data []byte) {
	c.t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.written[filepath.Base(path)] = c.now
}

func (c *fakeFS) options() *Options {
	return &Options{Now: func() time.Time { return c.now }, LockTimeout: time.Second, Sleep: func(d time.Duration) {
		c.sleeps++
		c.now = c.now.Add(d)
		if c.onSleep != nil {
			c.onSleep(c.sleeps)
		}
	}, clock: func() time.Time { return c.now }, stamps: c.stamps, mapMin: 1}
}

// stamps gives the times of a file as the fake file system records them:
// when this test last wrote it, or the clock's present time for a file it
// did not write, at its resolution.
func (c *fakeFS) stamps(fi fs.FileInfo) (time.Time, time.Time) {
	w, ok := c.written[fi.Name()]
	if !ok {
		w = c.now
	}
	w = w.Truncate(c.res)
	return w, w
}

// twoVersions returns two session files of exactly the same size and
// layout, each with two instances of two sessions, whose tokens differ:
// a read that takes the start of one and the end of the other answers with
// tokens of both.
func twoVersions() (a, b []byte) {
	file := func(v string) []byte {
		s := &Sessions{}
		for _, url := range []string{"https://a.example.com", "https://b.example.com"} {
			for _, email := range []string{"ali@example.com", "bo@example.com"} {
				s.Insert(Session{URL: url, Email: email, Token: "tok-" + v + "-" + email, Expires: ExpiryFromTime(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))})
			}
		}
		return s.Marshal()
	}
	return file("A"), file("B")
}

// versionOfTokens says which version the tokens read come from: "A", "B",
// or "mixed".
func versionOfTokens(sessions []Session) string {
	seen := map[string]bool{}
	for _, s := range sessions {
		seen[strings.Split(s.Token, "-")[1]] = true
	}
	if len(seen) != 1 {
		return fmt.Sprintf("mixed %v", seen)
	}
	for v := range seen {
		return v
	}
	return ""
}

// loadAll runs loadData with the reader given, and a keep that calls during
// (between the two instances of twoVersions) once; it returns the sessions
// of the answer and how many times a parse reached the answer.
func loadAll(t *testing.T, path string, opt *Options, read reader, during func()) (got []Session, answers int) {
	t.Helper()
	keep := func(url string) bool {
		if url == "https://b.example.com" && during != nil {
			during()
			during = nil
		}
		return true
	}
	err := loadData(path, opt, read, keep, func(s *Sessions, _ []byte) {
		answers++
		got = nil
		for _, sess := range s.All() {
			sess.URL, sess.Email, sess.Token = strings.Clone(sess.URL), strings.Clone(sess.Email), strings.Clone(sess.Token)
			got = append(got, sess)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, answers
}

// TestReadOneVersion: a file rewritten while it is read is read again, and
// the answer comes from one version, whatever the reader (mapped or
// copied), the resolution of the file's times (1 ns or 1 s), and whichever
// of size, times, identity or bytes shows the change.
func TestReadOneVersion(t *testing.T) {
	a, b := twoVersions()
	if len(a) != len(b) {
		t.Fatalf("versions of %d and %d bytes", len(a), len(b))
	}
	mixed := append(append([]byte{}, a[:len(a)/2]...), b[len(a)/2:]...)
	for _, tt := range []struct {
		name string
		res  time.Duration
		// age is how long before the read the file was written: not
		// recent, it is mapped; recent, it is copied and read twice.
		age time.Duration
		// first is what the file holds when the read starts; what a read
		// then finds is arranged by the hooks below.
		first []byte
		// duringParse rewrites the file between the parse of its two
		// instances; duringSecondRead, before the second read of a copy.
		duringParse, duringSecondRead func(c *fakeFS, path string)
	}{
		{
			name: "mapped, rewritten during the parse, fine times", res: time.Nanosecond, age: time.Hour, first: a,
			duringParse: func(c *fakeFS, path string) { c.write(path, b) },
		},
		{
			name: "mapped, rewritten during the parse, 1-second times", res: time.Second, age: 10 * time.Second, first: a,
			duringParse: func(c *fakeFS, path string) { c.write(path, b) },
		},
		{
			// The writer was caught in the middle of its write by the
			// first read and had finished by the second, in the same
			// second: the same size, the same times.
			name: "copied, mixed in the first read, 1-second times", res: time.Second, age: 300 * time.Millisecond, first: mixed,
			duringSecondRead: func(c *fakeFS, path string) { c.write(path, b) },
		},
		{
			name: "copied, mixed in the first read, fine times within one clock tick", res: 4 * time.Millisecond, age: time.Millisecond, first: mixed,
			duringSecondRead: func(c *fakeFS, path string) { c.write(path, b) },
		},
		{
			name: "mapped, replaced by a rename during the parse", res: time.Second, age: time.Hour, first: a,
			duringParse: func(c *fakeFS, path string) {
				tmp := path + ".new"
				// The times alone do not show it: only the path, naming
				// another file, does.
				c.write(tmp, b)
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		for _, r := range []struct {
			name string
			read reader
		}{{"Lookup's reader", mapFile}, {"Load's reader", copyFile}} {
			t.Run(tt.name+"/"+r.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "auth.json")
				c := newFakeFS(t, tt.res)
				// The same time as a's, whatever is on disk.
				c.write(path, tt.first)
				c.now = c.now.Add(tt.age)
				var during func()
				if tt.duringParse != nil {
					during = func() { tt.duringParse(c, path) }
				}
				reads := 0
				var inject func(op string) error
				if tt.duringSecondRead != nil {
					inject = func(op string) error {
						if op == "read" {
							if reads++; reads == 2 {
								tt.duringSecondRead(c, path)
							}
						}
						return nil
					}
				}
				got, answers := loadAll(t, path, withFault(c.options(), inject), r.read, during)
				// A copy checked whole before its parse is one version,
				// A, even if the file changes during the parse; mapped
				// bytes that changed under the parser are not, and the
				// file is read again: B.
				want, wantAnswers := "B", 2
				if tt.duringParse != nil && r.name == "Load's reader" {
					want, wantAnswers = "A", 1
				}
				if v := versionOfTokens(got); v != want || len(got) != 4 {
					t.Errorf("answered from %s (%d sessions), want %s", v, len(got), want)
				}
				if tt.duringSecondRead != nil && reads < 3 {
					t.Errorf("%d reads: the file was not read again", reads)
				}
				if tt.duringParse != nil && answers != wantAnswers {
					t.Errorf("%d parses reached the answer, want %d", answers, wantAnswers)
				}
			})
		}
	}
}

// TestReadNotRecentReadOnce: a file whose times are older than their
// resolution and any clock difference is read once, and mapped by Lookup's
// reader; a recent one is copied and read twice.
func TestReadNotRecentReadOnce(t *testing.T) {
	a, _ := twoVersions()
	for _, tt := range []struct {
		res, age    time.Duration
		reads       int
		wantMapping bool
	}{
		{time.Nanosecond, 10 * time.Second, 0, true},
		{time.Second, 10 * time.Second, 0, true},
		{time.Nanosecond, time.Second, 2, false},
		{time.Second, 3 * time.Second, 2, false}, // may be 2 s old only
	} {
		path := filepath.Join(t.TempDir(), "auth.json")
		c := newFakeFS(t, tt.res)
		c.write(path, a)
		c.now = c.now.Add(tt.age)
		reads := 0
		inject := func(op string) error {
			if op == "read" {
				reads++
			}
			return nil
		}
		snap, err := mapFile(path, withFault(c.options(), inject))
		if err != nil {
			t.Fatal(err)
		}
		if (snap.unmap != nil) != tt.wantMapping || reads != tt.reads {
			t.Errorf("resolution %s, %s old: mapped %v after %d reads, want %v after %d", tt.res, tt.age, snap.unmap != nil, reads, tt.wantMapping, tt.reads)
		}
		snap.close()
	}
}

// TestReadKeepsChanging: a file that changes during every read gives
// ErrBusy after MaxWait, never an answer from a mix.
func TestReadKeepsChanging(t *testing.T) {
	a, b := twoVersions()
	path := filepath.Join(t.TempDir(), "auth.json")
	c := newFakeFS(t, time.Second)
	c.write(path, a)
	n := 0
	inject := func(op string) error {
		if op == "read" {
			if n++; n%2 == 0 {
				c.write(path, [][]byte{a, b}[n/2%2])
			}
		}
		return nil
	}
	start := c.now
	_, _, err := Lookup(path, withFault(c.options(), inject), "https://a.example.com", "ali@example.com")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("Lookup = %v, want ErrBusy", err)
	}
	if waited := c.now.Sub(start); waited < MaxWait || waited > MaxWait+100*time.Millisecond {
		t.Errorf("gave up after %s", waited)
	}
}

// withFault gives o the test's fault injector.
func withFault(o *Options, fault func(op string) error) *Options {
	o.fault = fault
	return o
}
