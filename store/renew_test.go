//go:build unix

package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
			r, err := LockRenewal(path, &Options{flock: tt.first}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := LockRenewal(path, &Options{flock: tt.second}, 30*time.Millisecond); !errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), "auth.json.renew.lock") {
				t.Errorf("a second renewal lock while held: %v, want ErrLockTimeout naming the renewal lock", err)
			}
			opt := testOptions(t)
			opt.LockTimeout = 0 // tried once: a writer never waits for a renewal
			if err := Update(path, opt, insertOne("https://x", "a@x", "t")); err != nil {
				t.Errorf("an update while a renewal holds its lock: %v", err)
			}
			r.Unlock()
			r2, err := LockRenewal(path, &Options{flock: tt.second}, 0)
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
	r, err := LockRenewal(path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unlock()
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := r.Record("cs.example.com/", "ali@x", &RenewalOutcome{Refused: true, At: at, Host: "node7", PID: 42}); err != nil {
		t.Fatal(err)
	}
	if err := r.Record("https://other.example.com", "ali@x", Outcome(false, at)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LastRenewal(path, "http://cs.example.com", "ali@x")
	if err != nil || !ok || !got.Refused || !got.At.Equal(at) || got.By() != "process 42 on node7" {
		t.Errorf("LastRenewal = %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := LastRenewal(path, "http://cs.example.com", "bob@x"); ok {
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
	if _, _, err := LastRenewal(path, "http://cs.example.com", "ali@x"); !errors.Is(err, ErrUnsafe) {
		t.Errorf("a note that is a link: %v, want ErrUnsafe", err)
	}
}

func TestParseRenewNote(t *testing.T) {
	entry := `{"state":"refused","url":"https://cs.example.com","email":"a@x","at":"2026-01-02T03:04:05Z","host":"n1","pid":7}`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"one entry", `{"version":1,"entries":[` + entry + `]}`, true},
		{"none", `{"version":1,"entries":[]}`, true},
		{"version 2", `{"version":2,"entries":[]}`, false},
		{"unknown field", `{"version":1,"entries":[],"password":"x"}`, false},
		{"unknown entry field", `{"version":1,"entries":[` + strings.Replace(entry, `"pid"`, `"token":"t","pid"`, 1) + `]}`, false},
		{"trailing data", `{"version":1,"entries":[]} {}`, false},
		{"unknown state", `{"version":1,"entries":[` + strings.Replace(entry, "refused", "maybe", 1) + `]}`, false},
		{"url not canonical", `{"version":1,"entries":[` + strings.Replace(entry, "cs.example.com", "CS.example.com/", 1) + `]}`, false},
		{"email with a line break", `{"version":1,"entries":[` + strings.Replace(entry, "a@x", `a@x\n`, 1) + `]}`, false},
		{"no time", `{"version":1,"entries":[` + strings.Replace(entry, "2026-01-02T03:04:05Z", "", 1) + `]}`, false},
		{"negative pid", `{"version":1,"entries":[` + strings.Replace(entry, `"pid":7`, `"pid":-7`, 1) + `]}`, false},
		{"not JSON", "refused a@x", false},
		{"too many", `{"version":1,"entries":[` + strings.Repeat(entry+",", maxNoteEntries) + entry + `]}`, false},
		{"too large", strings.Repeat(" ", maxNoteSize+1), false},
	}
	for _, tt := range tests {
		if _, err := parseRenewNote([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// FuzzParseRenewNote: any input parses or is refused without a panic; what
// is accepted is written back and read again the same.
func FuzzParseRenewNote(f *testing.F) {
	f.Add([]byte(`{"version":1,"entries":[{"state":"renewed","url":"https://cs.example.com","email":"a@x","at":"2026-01-02T03:04:05.5Z","host":"n1","pid":7}]}`))
	f.Add([]byte(`{"version":1,"entries":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseRenewNote(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := parseRenewNote(again)
		if err != nil || len(n2.Entries) != len(n.Entries) {
			t.Fatalf("accepted %q, but not its own rewrite %q: %v", data, again, err)
		}
		for i := range n.Entries {
			if n.Entries[i] != n2.Entries[i] {
				t.Fatalf("entry %d changed: %+v → %+v", i, n.Entries[i], n2.Entries[i])
			}
		}
	})
}
