//go:build !unix

package cmdline

import (
	"context"
	"os/exec"
	"time"
)

// passwordCommand returns the password command to run, killed when ctx
// ends.
func passwordCommand(ctx context.Context, words []string) *exec.Cmd {
	c := exec.CommandContext(ctx, words[0], words[1:]...)
	c.WaitDelay = time.Second
	return c
}
