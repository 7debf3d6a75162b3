//go:build unix && !linux

package safefile

// pathOnly: without O_PATH, a folder on the way is opened for reading.
const pathOnly = 0
