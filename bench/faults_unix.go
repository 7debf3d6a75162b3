//go:build unix

package main

import (
	"os"
	"syscall"
)

// pageFaults is the number of page faults (minor and major) a finished
// process took, or -1 where the system does not say.
func pageFaults(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Minflt + ru.Majflt)
	}
	return -1
}
