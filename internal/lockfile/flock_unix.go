//go:build unix

package lockfile

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// platformFlock tries flock(2) on f once, without waiting.
func platformFlock(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := c.Control(func(fd uintptr) {
		for {
			if ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB); ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// flockBusy: another process holds the lock.
func flockBusy(err error) bool { return errors.Is(err, unix.EWOULDBLOCK) }

// flockUnsupported: the file system refuses flock (NFS without a lock
// manager: ENOLCK; Lustre without -o flock: ENOSYS; some BeeGFS, CIFS and
// FUSE mounts: EOPNOTSUPP, EINVAL).
func flockUnsupported(err error) bool {
	for _, e := range []error{unix.ENOLCK, unix.ENOSYS, unix.EOPNOTSUPP, unix.ENOTSUP, unix.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Touch sets f's modification time to now, by the file system's clock.
func Touch(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var terr error
	if err := c.Control(func(fd uintptr) { terr = unix.Futimes(int(fd), nil) }); err != nil {
		return err
	}
	return terr
}

// processAlive reports whether process pid may still be running on this
// host, as a lock holder started at since: a process that started after it
// took the lock is another one that got its pid. A zombie whose other
// threads still run (one of them may be in the middle of a rename) is
// alive.
func processAlive(pid int, since time.Time) bool {
	if pid <= 0 {
		return true
	}
	if err := unix.Kill(pid, 0); err != nil && !errors.Is(err, unix.EPERM) {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(proc + "/stat")
	if err != nil {
		return true
	}
	// "pid (command) state …": the command may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	if state := stat[i+2]; state == 'Z' || state == 'X' {
		tasks, err := os.ReadDir(proc + "/task")
		return err == nil && len(tasks) > 1
	}
	if started, ok := startTime(stat[i+2:]); ok && !since.IsZero() && started.After(since.Add(time.Second)) {
		return false
	}
	return true
}

// startTime reads when a process started from the fields of its
// /proc/PID/stat after the command (state first): field 22, in clock ticks
// (USER_HZ, 100 on Linux) after the boot time of /proc/stat.
func startTime(fields []byte) (time.Time, bool) {
	f := strings.Fields(string(fields))
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(boot, 0).Add(time.Duration(ticks) * time.Second / 100), true
		}
	}
	return time.Time{}, false
}

// processSpace names the set of process ids this process's pid belongs
// to: on Linux the boot (a host's boot id is unique, its name may not be)
// and the process namespace (containers that share the host name do not
// share process ids); elsewhere the host name.
func processSpace(host string) string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, err2 := os.Readlink("/proc/self/ns/pid")
	if err != nil || err2 != nil {
		return "host:" + host
	}
	ns = strings.TrimSuffix(strings.TrimPrefix(ns, "pid:["), "]")
	return strings.TrimSpace(string(boot)) + "/" + ns
}
