//go:build unix

package main

import "syscall"

// execve replaces the program with path: the command's exit status and
// signals are its own.
func execve(path string, argv, envv []string) error { return syscall.Exec(path, argv, envv) }
