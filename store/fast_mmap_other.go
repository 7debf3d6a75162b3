//go:build !unix

package store

import (
	"io/fs"
	"os"
)

// mapOpen reads f, opened at path and then described by fi: where mapping
// is not available.
func mapOpen(path string, f *os.File, fi fs.FileInfo, opt *Options) (*snapshot, error) {
	return copyOpen(path, f, fi, opt)
}
