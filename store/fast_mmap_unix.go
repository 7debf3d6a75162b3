//go:build unix

package store

import "syscall"

// mapFile maps the file into memory instead of copying it: the kernel's
// page cache is read in place, which is what makes a lookup in a large file
// cheap. A file truncated while mapped faults on access; load's guard turns
// that into a torn read.
func mapFile(path string) ([]byte, fileVersion, func(), error) {
	f, fi, err := openStat(path)
	if err != nil {
		return nil, fileVersion{}, nil, err
	}
	defer f.Close()
	v := versionOf(fi)
	size := fi.Size()
	if size <= 0 || size != int64(int(size)) || !fi.Mode().IsRegular() {
		data, err := readAll(f, size)
		return data, v, func() {}, err
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// Some file systems cannot map: read instead.
		data, err := readAll(f, size)
		return data, v, func() {}, err
	}
	return data, v, func() { syscall.Munmap(data) }, nil
}
