package lockfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// platformFlock tries an exclusive LockFileEx on f once, without waiting.
func platformFlock(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &windows.Overlapped{})
}

func flockBusy(err error) bool { return errors.Is(err, windows.ERROR_LOCK_VIOLATION) }

func flockUnsupported(err error) bool {
	return errors.Is(err, windows.ERROR_NOT_SUPPORTED) || errors.Is(err, windows.ERROR_INVALID_FUNCTION)
}

// Touch sets f's modification time to now.
func Touch(f *os.File) error {
	now := time.Now()
	return os.Chtimes(f.Name(), now, now)
}

func processAlive(pid int, _ time.Time) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return !errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) != nil {
		return true
	}
	return code == 259 // STILL_ACTIVE
}

func processSpace(host string) string { return "host:" + host }
