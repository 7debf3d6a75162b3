package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Load reads the session file at path. A missing file holds no sessions. A
// file caught while being written (empty, or JSON cut short) is read again
// until it is whole; one left so for AbandonAfter is taken as it is: empty,
// it holds no sessions. A file still being written after MaxWait gives
// ErrBusy. As with Parse, an invalid file gives its valid part and an
// *InvalidError.
func Load(path string, opt *Options) (*Sessions, error) {
	var out *Sessions
	err := load(path, opt, readFile, nil, func(s *Sessions) { out = s })
	if out == nil && err == nil {
		out = &Sessions{}
	}
	return out, err
}

// reader gets the bytes of a file and a function that releases them.
type reader func(path string) (data []byte, v fileVersion, release func(), err error)

// load reads and parses the file at path, waiting out a write in
// progress, and hands the result to use while its bytes are still there.
// A file that is missing is handed over as no sessions.
func load(path string, opt *Options, read reader, keep func(string) bool, use func(*Sessions)) error {
	var (
		start, seen time.Time
		last        fileVersion
		age         func(fileVersion) time.Duration
		// slept counts the pauses asked for, so that the wait is bounded
		// even by a clock that does not move (a test's); sleptSeen is its
		// value when the file last changed.
		slept, sleptSeen time.Duration
	)
	delay := time.Millisecond
	for try := 0; ; try++ {
		if try == 1 {
			// The file is being rewritten in place: a copy taken in one
			// quick read has a better chance of catching it whole than a
			// mapping that must stay whole while it is parsed.
			read = readFile
		}
		data, version, release, err := read(path)
		if errors.Is(err, fs.ErrNotExist) {
			use(&Sessions{})
			return nil
		}
		if err != nil {
			return err
		}
		if try == 0 {
			checkMode(path, version.mode, opt)
		}
		var (
			s    *Sessions
			perr error
		)
		faulted := guard(func() {
			s, perr = parseFile(data, path, opt.expiryNow(), keep)
			if !inProgress(data, perr) {
				use(s)
			}
		})
		release()
		if !faulted && !inProgress(data, perr) {
			return perr
		}
		now := opt.now()
		switch {
		case try == 0:
			start, seen = now, now
		case version != last:
			seen, sleptSeen = now, slept
		}
		last = version
		unchanged := max(now.Sub(seen), slept-sleptSeen)
		if !faulted {
			if age == nil {
				age = fileAge(path)
			}
			if unchanged >= AbandonAfter || age(version) >= AbandonAfter {
				// Left alone for long enough: an abandoned write, taken as
				// it is (empty: no sessions; cut short: not valid JSON).
				use(s)
				return perr
			}
		}
		if max(now.Sub(start), slept) >= MaxWait {
			return fmt.Errorf("%w: %s stayed incomplete and kept changing for %s (cryosparc-tools or another program is writing it); try again", ErrBusy, path, MaxWait)
		}
		opt.sleep(delay)
		slept += delay
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// inProgress reports whether what was read looks like a file caught while
// it is rewritten in place: empty, or JSON cut short.
func inProgress(data []byte, err error) bool {
	var inv *InvalidError
	return len(data) == 0 || errors.As(err, &inv) && inv.Truncated()
}

// fileAge returns how long ago a version of the file at path last changed,
// by the clock of the file system that holds it: over NFS the server's
// clock, read from a file created in the same folder for a moment, may
// differ from this machine's. Where no file can be created there, this
// machine's clock is used.
func fileAge(path string) func(fileVersion) time.Duration {
	offset := time.Duration(0)
	if target, err := resolve(path); err == nil {
		if f, err := os.CreateTemp(filepath.Dir(target), tempPrefix(target)+"clock-"); err == nil {
			fi, err := f.Stat()
			local := time.Now()
			f.Close()
			os.Remove(f.Name())
			if err == nil {
				offset = changeTime(fi).Sub(local)
			}
		}
	}
	return func(v fileVersion) time.Duration { return time.Now().Add(offset).Sub(v.ctime) }
}

// fileVersion tells versions of a file apart without reading it.
type fileVersion struct {
	size         int64
	mtime, ctime time.Time
	mode         fs.FileMode
}

func versionOf(fi fs.FileInfo) fileVersion {
	return fileVersion{size: fi.Size(), mtime: fi.ModTime(), ctime: changeTime(fi), mode: fi.Mode()}
}

// openStat opens the file, says what it is, and refuses what is not a
// regular file of at most MaxFileSize bytes.
func openStat(path string) (*os.File, fs.FileInfo, error) {
	f, err := openRead(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkRegular(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// checkRegular refuses anything but a regular file of at most MaxFileSize
// bytes: a FIFO would block a reader forever, a device never end.
func checkRegular(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file (%s); give the path of the session file", ErrUnsafe, printable(path), kind(fi.Mode()))
	}
	if fi.Size() > MaxFileSize {
		return fmt.Errorf("%w: %s is %d bytes, more than the %d MiB a session file may have; is it the right file?", ErrUnsafe, printable(path), fi.Size(), MaxFileSize>>20)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// readFile reads the whole file into memory, and what it was when opened.
func readFile(path string) ([]byte, fileVersion, func(), error) {
	f, fi, err := openStat(path)
	if err != nil {
		return nil, fileVersion{}, nil, err
	}
	defer f.Close()
	data, err := readAll(f, fi.Size())
	if err != nil {
		err = fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
	}
	return data, versionOf(fi), func() {}, err
}

// readAll reads f, which had size bytes when opened, refusing to read
// more than MaxFileSize.
func readAll(f *os.File, size int64) ([]byte, error) {
	data := make([]byte, 0, size+512)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) > MaxFileSize {
			return nil, fmt.Errorf("it grew beyond %d MiB while being read", MaxFileSize>>20)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

func parseFile(data []byte, path string, now time.Time, keep func(string) bool) (*Sessions, error) {
	if len(data) == 0 {
		// What cryosparc-tools leaves when it dies between truncating and
		// writing: it holds nothing, so nothing can be lost by rewriting it.
		return &Sessions{}, nil
	}
	s, err := parse(data, now, keep)
	var inv *InvalidError
	if errors.As(err, &inv) {
		inv.Path = path
	}
	return s, err
}

func checkMode(path string, mode fs.FileMode, opt *Options) {
	if mode.Perm()&0o077 != 0 && !isWindows() {
		opt.warn("%s has permissions %#o; it should be readable by its owner only (chmod 600 %s)", printable(path), mode.Perm(), printable(path))
	}
}
