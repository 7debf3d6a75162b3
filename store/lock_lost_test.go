//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
)

// TestLockLostRefusesWrite: a writer whose lock is no longer its own by
// the time it would rename its new file into place (a refresh of its lock
// file failed, so another host may take the lock for a dead writer's; or
// the lock file was removed or replaced meanwhile) renames nothing: the
// file is unchanged, no temporary file is left, another writer's lock file
// is left alone, and the error is ErrUnsafe naming the lost lock. A
// refresh that works changes nothing.
func TestLockLostRefusesWrite(t *testing.T) {
	const original = `{"https://x": {"old@x": {"token": {"access_token": "old", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	const theirs = "pid=1 host=other space=elsewhere since=2026-01-01T00:00:00Z nonce=theirs\n"
	tests := []struct {
		name    string
		touch   func(refreshed func()) func(*os.File) error // nil: the real one
		meddle  func(t *testing.T, path string, refreshed <-chan struct{})
		wantErr string // "": written
		theirs  bool   // another writer's lock file is left in place
	}{
		{name: "a refresh works: written",
			touch: func(refreshed func()) func(*os.File) error {
				return func(f *os.File) error { err := lockfile.Touch(f); refreshed(); return err }
			},
			meddle: waitFor},
		{name: "a refresh fails: refused",
			touch: func(refreshed func()) func(*os.File) error {
				return func(*os.File) error { refreshed(); return syscall.EIO }
			},
			meddle:  waitFor,
			wantErr: "refreshing the lock file"},
		{name: "the lock file removed: refused",
			meddle: func(t *testing.T, path string, _ <-chan struct{}) {
				if err := os.Remove(heldPath(path)); err != nil {
					t.Error(err)
				}
			},
			wantErr: "was removed or replaced"},
		{name: "the lock file replaced by another writer's: refused",
			meddle: func(t *testing.T, path string, _ <-chan struct{}) {
				if err := os.Remove(heldPath(path)); err != nil {
					t.Error(err)
				}
				if err := os.WriteFile(heldPath(path), []byte(theirs), 0o600); err != nil {
					t.Error(err)
				}
			},
			wantErr: "was removed or replaced",
			theirs:  true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "auth.json")
			if err := os.WriteFile(path, []byte(original), 0o600); err != nil {
				t.Fatal(err)
			}
			opt := testOptions(t)
			refreshed := make(chan struct{})
			var once sync.Once
			if tt.touch != nil {
				opt.touch = tt.touch(func() { once.Do(func() { close(refreshed) }) })
			}
			err := Update(path, opt, func(s *Sessions) error {
				tt.meddle(t, path, refreshed)
				return insertOne("https://x", "new@x", "new")(s)
			})
			data, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tt.wantErr == "" {
				if err != nil || !strings.Contains(string(data), `"new@x"`) {
					t.Fatalf("Update: %v; the file holds %s", err, data)
				}
				return
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "lock on "+path+" was lost") || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "not put in place") {
				t.Errorf("Update: %v, want ErrUnsafe saying the lock was lost (%s) and the new version not put in place", err, tt.wantErr)
			}
			if string(data) != original {
				t.Errorf("the file changed: %s", data)
			}
			names, _ := filepath.Glob(filepath.Join(dir, ".auth.json.tmp-*"))
			if len(names) > 0 {
				t.Errorf("left behind: %v", names)
			}
			held, err := os.ReadFile(heldPath(path))
			switch {
			case tt.theirs && string(held) != theirs:
				t.Errorf("the other writer's lock file: %q, %v; want it left as it was", held, err)
			case !tt.theirs && !errors.Is(err, os.ErrNotExist):
				t.Errorf("a lock file is left behind: %q, %v", held, err)
			}
		})
	}
}

// waitFor waits for the lock file's first refresh (lockfile.RefreshEvery after the
// lock was taken), with a generous bound.
func waitFor(t *testing.T, _ string, refreshed <-chan struct{}) {
	select {
	case <-refreshed:
	case <-time.After(30 * lockfile.RefreshEvery):
		t.Error("the lock file was never refreshed")
	}
}
