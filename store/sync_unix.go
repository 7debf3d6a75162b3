//go:build !windows

package store

func isWindows() bool { return false }
