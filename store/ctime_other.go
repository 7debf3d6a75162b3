//go:build !linux && !darwin

package store

import (
	"io/fs"
	"time"
)

// changeTime is the modification time where the change time is not at hand.
func changeTime(fi fs.FileInfo) time.Time { return fi.ModTime() }

// ctimeMoves: the change time is not at hand here, and a modification time
// can be set back, so a file's bytes are always read to tell whether it
// changed (see known.untouched).
const ctimeMoves = false
