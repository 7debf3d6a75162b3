//go:build !unix

package store

// mapFile reads the file: where mapping is not available.
func mapFile(path string) ([]byte, fileVersion, func(), error) {
	return readFile(path)
}
