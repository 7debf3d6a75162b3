//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cmdline

import (
	"bufio"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// readPassword reads a line from the terminal f with echo off. Unlike
// term.ReadPassword, which reads on after a read of nothing, end of input
// (Ctrl-D) ends it with io.EOF; Ctrl-C restores the terminal before the
// program ends.
func readPassword(f *os.File, r *bufio.Reader) (string, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return "", err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, setTermios, &quiet); err != nil {
		return "", err
	}
	// Restoring echo can fail only when the terminal is gone: no one left to tell.
	restore := func() { _ = unix.IoctlSetTermios(fd, setTermios, old) }
	defer restore()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-signals:
			restore()
			os.Exit(130)
		case <-done:
		}
	}()
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	if err != nil { // Ctrl-D after some characters: not an answer
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}
