//go:build unix

package cmdline

import "syscall"

// execve replaces the program with path: the command's exit status and
// signals are its own. The standard streams in closed are closed first.
func execve(path string, argv, envv []string, closed []int) error {
	for _, fd := range closed {
		_ = syscall.Close(fd) // a stream closed at start: an error leaves it as closed to the command
	}
	restoreSIGPIPE()
	return syscall.Exec(path, argv, envv)
}
