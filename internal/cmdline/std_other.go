//go:build !unix

package cmdline

// closedAtStart reports whether standard stream fd was closed when the
// program started; only known on Unix.
func closedAtStart(int) bool { return false }
