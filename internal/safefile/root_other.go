//go:build !unix

package safefile

import "os"

// OpenReadAsRoot is OpenRead: there is no root here.
func OpenReadAsRoot(path string, _ func()) (*os.File, error) { return OpenRead(path) }
