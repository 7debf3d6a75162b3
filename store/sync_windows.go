//go:build windows

package store

// syncDir does nothing on Windows, where folders cannot be opened for flushing.
func syncDir(dir string) {}

func isWindows() bool { return true }
