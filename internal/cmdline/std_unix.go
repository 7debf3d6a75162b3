//go:build unix

package cmdline

import "golang.org/x/sys/unix"

// closedAtStart reports whether standard stream fd was closed when the
// program started. Go's runtime then opens /dev/null in its place, for
// reading and writing at once, which a shell's </dev/null or >/dev/null
// never does: `get <&-` must not read an empty request, and `get >&-` must
// not lose its answer unseen.
// The open mode is asked first: one system call answers for a stream
// that is not open for reading and writing, as pipes, files and
// redirections to /dev/null are not.
func closedAtStart(fd int) bool {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return true
	}
	if flags&unix.O_ACCMODE != unix.O_RDWR {
		return false
	}
	var st, null unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return true
	}
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Stat("/dev/null", &null) == nil && st.Rdev == null.Rdev
}
