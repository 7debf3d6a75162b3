//go:build !linux && !darwin

package store

import (
	"io/fs"
	"time"
)

// changeTime is the modification time where the change time is not at hand.
func changeTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
