//go:build !unix

package cmdline

import (
	"errors"
	"os"
	"os/exec"
)

// execve runs path as a child with the program's streams and returns its
// exit status (as an exitStatus error when it is not 0): Windows cannot
// replace a process.
func execve(path string, argv, envv []string, _ []int) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = envv, os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exitStatus(exit.ExitCode())
	}
	return err
}
