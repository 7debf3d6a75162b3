//go:build !windows

package store

import "os"

// syncDir flushes a folder's entries to disk, so that a rename survives a crash.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func isWindows() bool { return false }
