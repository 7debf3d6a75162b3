//go:build !unix

package store

import (
	"io/fs"
	"os"
)

func openRead(path string) (*os.File, error) { return os.Open(path) }

func owner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

func keepOwner(*os.File, fs.FileInfo) error { return nil }
