//go:build !unix

package store

import (
	"os"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// openReadAsRoot is safefile.OpenRead: there is no root here.
func openReadAsRoot(path string, _ *Options) (*os.File, error) { return safefile.OpenRead(path) }
