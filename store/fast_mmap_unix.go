//go:build unix

package store

import (
	"io/fs"
	"os"
	"syscall"
)

// mapOpen maps f, opened at path and then described by fi, into memory
// instead of copying it: the kernel's page cache is read in place, which
// is what makes a lookup in a large file cheap. A mapping is shared with
// the file, so its bytes can change while they are parsed: load checks
// after the parse that the file did not change, which its times show
// unless it had already changed within their resolution of the read. Such
// a file, changed recently, is copied instead (and read twice, see
// copyOpen). A file truncated while mapped faults on access; load's guard
// turns that into a changed file. A file smaller than mapMin is copied
// too: for a few sessions the mapping cost more than the copy (mmap, a
// page fault, and munmap, which stops every thread of the process to
// flush its address cache: docs/performance.md, "Start-up").
func mapOpen(path string, f *os.File, fi fs.FileInfo, opt *Options) (*snapshot, error) {
	snap := &snapshot{version: versionOf(fi, opt), fi: fi, f: f, opt: opt}
	size := fi.Size()
	if size <= 0 || size < opt.mapFrom() || size != int64(int(size)) || snap.version.recent(opt.wallNow()) {
		return copyOpen(path, f, fi, opt)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Some file systems cannot map: read instead.
		return copyOpen(path, f, fi, opt)
	}
	snap.data, snap.unmap = data, func() {
		_ = syscall.Munmap(data) // fails only for a range not mapped, which this is not
	}
	return snap, nil
}
