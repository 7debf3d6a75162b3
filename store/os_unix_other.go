//go:build unix && !linux

package store

// pathOnly: without O_PATH, a folder on the way is opened for reading.
const pathOnly = 0
