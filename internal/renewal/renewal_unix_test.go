//go:build unix

package renewal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// fixedNow is the clock of the sessions the tests store.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// refused is a flock that fails with e, as file systems that refuse it do.
func refused(e syscall.Errno) func(*os.File) error {
	return func(*os.File) error { return e }
}

// options are the renewal options of these tests: store's check, and
// flock replaced by fl when it is set.
func options(fl func(*os.File) error, wait time.Duration) Options {
	return Options{Wait: wait, Check: store.Existing, Flock: fl}
}

// TestRenewalLock: the renewal lock excludes another renewal (flock working
// or refused, in either mix), never the writers: an Update goes through
// while it is held.
func TestRenewalLock(t *testing.T) {
	for _, tt := range []struct {
		name          string
		first, second func(*os.File) error
	}{
		{"flock", nil, nil},
		{"flock refused", refused(syscall.ENOLCK), refused(syscall.ENOLCK)},
		{"mixed", nil, refused(syscall.EOPNOTSUPP)},
		{"mixed, the other way", refused(syscall.ENOSYS), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			r, err := Take(path, options(tt.first, 0))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Take(path, options(tt.second, 30*time.Millisecond)); !errors.Is(err, lockfile.ErrTimeout) || !strings.Contains(err.Error(), "auth.json.renew.lock") {
				t.Errorf("a second renewal lock while held: %v, want ErrLockTimeout naming the renewal lock", err)
			}
			opt := &store.Options{Now: func() time.Time { return fixedNow }, Sleep: func(time.Duration) {}}
			opt.LockTimeout = 0 // tried once: a writer never waits for a renewal
			insertOne := func(s *store.Sessions) error {
				_, err := s.Insert(store.Session{URL: "https://x", Email: "a@x", Token: "t", Expires: store.ExpiryFromTime(fixedNow.Add(time.Hour))})
				return err
			}
			if err := store.Update(path, opt, insertOne); err != nil {
				t.Errorf("an update while a renewal holds its lock: %v", err)
			}
			r.Unlock()
			r2, err := Take(path, options(tt.second, 0))
			if err != nil {
				t.Fatalf("after Unlock: %v", err)
			}
			r2.Unlock()
			if _, err := os.Lstat(path + ".renew.lock.held"); !os.IsNotExist(err) {
				t.Errorf("the held file is left: %v", err)
			}
		})
	}
}

// TestRenewalNote: outcomes are kept per instance (as find matches it) and
// email, owner-only, replaced by the next one, removed by a nil outcome;
// the note goes when it is empty.
func TestRenewalNote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	r, err := Take(path, options(nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unlock()
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := r.Record("cs.example.com/", "ali@x", &Outcome{Refused: true, At: at, Host: "node7", PID: 42}); err != nil {
		t.Fatal(err)
	}
	if err := r.Record("https://other.example.com", "ali@x", ByThisProcess(false, at)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Last(path, "http://cs.example.com", "ali@x")
	if err != nil || !ok || !got.Refused || !got.At.Equal(at) || got.By() != "process 42 on node7" {
		t.Errorf("Last = %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := Last(path, "http://cs.example.com", "bob@x"); ok {
		t.Error("another email's renewal is said refused")
	}
	if fi, err := os.Stat(path + ".renew.note"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the note: %v, %v; want mode 0600", fi, err)
	}
	if err := r.Record("http://cs.example.com", "ali@x", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Last("http://cs.example.com", "ali@x"); ok {
		t.Error("a nil outcome left the entry")
	}
	if _, ok, _ := r.Last("https://other.example.com", "ali@x"); !ok {
		t.Error("another instance's entry went too")
	}
	r.Record("https://other.example.com", "ali@x", nil)
	if _, err := os.Stat(path + ".renew.note"); !os.IsNotExist(err) {
		t.Errorf("an empty note stays: %v", err)
	}
	// A note that is a link is never followed.
	os.Symlink("/etc/passwd", path+".renew.note")
	if _, _, err := Last(path, "http://cs.example.com", "ali@x"); !errors.Is(err, safefile.ErrUnsafe) {
		t.Errorf("a note that is a link: %v, want ErrUnsafe", err)
	}
}
