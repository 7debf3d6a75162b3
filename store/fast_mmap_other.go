//go:build !unix

package store

// mapFile reads the file: where mapping is not available.
func mapFile(path string, opt *Options) (*snapshot, error) {
	return copyFile(path, opt)
}
