//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkLock takes and releases the lock, with flock working and with
// flock refused (the lock file alone).
func BenchmarkLock(b *testing.B) {
	for _, c := range []struct {
		name  string
		flock func(f *os.File) error
	}{{"flock", nil}, {"refused", refused(syscall.ENOLCK)}} {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "auth.json")
			opt := &Options{flock: c.flock}
			for b.Loop() {
				unlock, err := lock(path, opt, nil)
				if err != nil {
					b.Fatal(err)
				}
				unlock.Unlock()
			}
		})
	}
}
