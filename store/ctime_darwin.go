package store

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when the file's content or attributes last changed (ctime).
func changeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctimespec.Sec, st.Ctimespec.Nsec)
	}
	return fi.ModTime()
}
