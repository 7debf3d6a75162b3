//go:build !unix

package safefile

import "os"

// OpenReadAsRoot is OpenRead: there is no root here.
func OpenReadAsRoot(path string, _ func()) (*os.File, error) { return OpenRead(path) }

// ReadFolder is the file a path names: with no root here, each open goes
// by path.
type ReadFolder struct{ path string }

// OpenReadFolderAsRoot is path, to be opened by path.
func OpenReadFolderAsRoot(path string, _ func()) (*ReadFolder, error) {
	return &ReadFolder{path: path}, nil
}

// Close does nothing.
func (r *ReadFolder) Close() {}

// Open is OpenRead of the path.
func (r *ReadFolder) Open() (*os.File, error) { return OpenRead(r.path) }

// FileOwner reports whether the path names a file: files have no Unix owner
// here.
func (r *ReadFolder) FileOwner() (uid int, ok bool) {
	_, err := os.Stat(r.path)
	return 0, err == nil
}

// OpenBeside is OpenNoFollow of the path with suffix added.
func (r *ReadFolder) OpenBeside(suffix string) (*os.File, string, error) {
	f, err := OpenNoFollow(r.path + suffix)
	return f, r.path + suffix, err
}
