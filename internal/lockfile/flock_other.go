//go:build !unix && !windows

package lockfile

import (
	"errors"
	"os"
	"time"
)

var errNoFlock = errors.New("flock is not available on this system")

// platformFlock: none here; the exclusive lock file does the locking.
func platformFlock(*os.File) error { return errNoFlock }

func flockBusy(error) bool { return false }

func flockUnsupported(err error) bool { return errors.Is(err, errNoFlock) }

// Touch sets f's modification time to now.
func Touch(f *os.File) error {
	now := time.Now()
	return os.Chtimes(f.Name(), now, now)
}

func processAlive(int, time.Time) bool { return true }

func processSpace(host string) string { return "host:" + host }
