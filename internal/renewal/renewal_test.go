package renewal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestTakeChecksTheSessionFile: the lock is taken only beside a file the
// session file's check accepts: without the check, or on a path the
// check refuses, Take fails and creates nothing.
func TestTakeChecksTheSessionFile(t *testing.T) {
	for _, tt := range []struct {
		name    string
		make    func(path string) error // what is at path first
		check   func(string) (os.FileInfo, error)
		wantErr error
		wantMsg string
	}{
		{"no check given", func(string) error { return nil }, nil, errNoCheck, ""},
		{"a folder at the path", func(p string) error { return os.Mkdir(p, 0o700) }, store.Existing, safefile.ErrUnsafe, "is not a regular file"},
		{"the check's own refusal", func(string) error { return nil },
			func(string) (os.FileInfo, error) { return nil, safefile.ErrUnsafe }, safefile.ErrUnsafe, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "auth.json")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadDir(dir)
			r, err := Take(path, Options{Check: tt.check})
			if err == nil {
				r.Unlock()
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Take = %v, want %v saying %q", err, tt.wantErr, tt.wantMsg)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Errorf("Take created files: %v, was %v", after, before)
			}
		})
	}
}

// TestRecordAgesByTheLockClock: a record without an outcome drops the
// entries older than RefusalHold by the clock in Options, not the
// machine's: an entry within the hold by that clock stays, one beyond it
// goes.
func TestRecordAgesByTheLockClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) // in the future: by time.Now, never old
	for _, tt := range []struct {
		name  string
		now   time.Time
		stays bool
	}{
		{"within the hold", at.Add(RefusalHold - time.Minute), true},
		{"beyond the hold", at.Add(RefusalHold + time.Minute), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			r, err := Take(path, Options{Check: store.Existing, Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Unlock()
			if err := r.Record("https://a.example.com", "ali@x", &Outcome{Refused: true, At: at}); err != nil {
				t.Fatal(err)
			}
			// Forget another session: the note is rewritten, old entries dropped.
			if err := r.Record("https://b.example.com", "bob@x", nil); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := r.Last("https://a.example.com", "ali@x"); err != nil || ok != tt.stays {
				t.Errorf("entry of %s at now %s: found %v, %v; want found %v", at, tt.now, ok, err, tt.stays)
			}
		})
	}
}
