//go:build unix

package cmdline

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// passwordCommand returns the password command to run, ended with every
// process it started when ctx ends: it gets a process group of its own,
// which is killed as a whole. Not where there is a controlling terminal:
// there it stays in the terminal's foreground group, so that it can ask
// for a passphrase (a background group stops when it reads the terminal),
// and a timeout ends the command itself.
func passwordCommand(ctx context.Context, words []string) *exec.Cmd {
	restoreSIGPIPE()
	c := exec.CommandContext(ctx, words[0], words[1:]...)
	c.WaitDelay = time.Second // a child that keeps its output open is not waited for
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close()
		return c
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	return c
}
