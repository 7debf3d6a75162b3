//go:build !unix && !windows

package store

import (
	"errors"
	"os"
	"time"
)

const (
	oNoFollow = 0
	oNonBlock = 0
)

var errNoFlock = errors.New("flock is not available on this system")

// platformFlock: none here; the exclusive lock file does the locking.
func platformFlock(*os.File) error { return errNoFlock }

func flockBusy(error) bool { return false }

func flockUnsupported(err error) bool { return errors.Is(err, errNoFlock) }

func isLoop(error) bool { return false }

func touch(f *os.File) {
	now := time.Now()
	os.Chtimes(f.Name(), now, now)
}

func processAlive(int, time.Time) bool { return true }

func processSpace(host string) string { return "host:" + host }
