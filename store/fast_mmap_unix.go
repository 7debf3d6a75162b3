//go:build unix

package store

import (
	"syscall"
	"time"
)

// mapFile maps the file into memory instead of copying it: the kernel's
// page cache is read in place, which is what makes a lookup in a large file
// cheap. A mapping is shared with the file, so its bytes can change while
// they are parsed: load checks after the parse that the file did not
// change, which its times show unless it had already changed within their
// resolution of the read. Such a file, changed recently, is copied instead
// (and read twice, see copyOpen). A file truncated while mapped faults on
// access; load's guard turns that into a changed file.
func mapFile(path string, now time.Time, fault func(string) error) (*snapshot, error) {
	f, fi, err := openStat(path, fault)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{version: versionOf(fi), fi: fi, f: f}
	size := fi.Size()
	if size <= 0 || size != int64(int(size)) || snap.version.recent(now) {
		return copyOpen(path, f, fi, now, fault)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Some file systems cannot map: read instead.
		return copyOpen(path, f, fi, now, fault)
	}
	snap.data, snap.unmap = data, func() {
		_ = syscall.Munmap(data) // fails only for a range not mapped, which this is not
	}
	return snap, nil
}
