//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cmdline

import (
	"bufio"
	"os"

	"golang.org/x/term"
)

// readPassword reads a line from the terminal f with echo off.
func readPassword(f *os.File, _ *bufio.Reader) (string, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	return string(b), err
}
