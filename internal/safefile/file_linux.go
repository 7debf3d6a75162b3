package safefile

import "golang.org/x/sys/unix"

// pathOnly opens a folder only to reach what is in it, which needs no
// permission to list it.
const pathOnly = unix.O_PATH
