package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// Load reads the session file at path, answering from one version of it:
// a read that overlapped a rewrite is read again. A missing file holds no
// sessions. A file caught while being written (empty, or JSON cut short)
// is read again until it is whole; one left so for AbandonAfter is taken as
// it is: empty, it holds no sessions. A file still being written, or
// rewritten during every read, after MaxWait gives ErrBusy. As with Parse,
// an invalid file gives its valid part and an *InvalidError.
//
// A write of this program's that a save by cryosparc-tools, which loaded
// the file earlier, has dropped since (see RecentKeep) is in the result,
// and is put back into the file, under the lock, before Load returns.
func Load(path string, opt *Options) (*Sessions, error) {
	at := openReading(path)
	recent := at.recent(path, opt)
	out, err := at.load(path, opt)
	at.dir.Close()
	if err == nil && restoreDropped(out, recent, opt.now()) {
		writeBack(path, opt)
	}
	return out, err
}

// loadFile is Load of the file alone.
func loadFile(path string, opt *Options) (*Sessions, error) { return reading{}.load(path, opt) }

func (at reading) load(path string, opt *Options) (*Sessions, error) {
	v, err := readVersion(path, opt, at.reader(copyOpen), nil, nil)
	if err == nil {
		err = v.perr
	}
	if err != nil && !invalid(err) {
		return nil, err // no sessions with an error: what was read was no answer
	}
	if v.s == nil && err == nil {
		v.s = &Sessions{}
	}
	return v.s, err
}

// reader reads the file at path once: opt's wall clock is this machine's
// time, by which the reader judges whether the file changed recently.
type reader func(path string, opt *Options) (*snapshot, error)

// loadData is readVersion for a reader that may map the file (Ask's): it
// hands the version to use, with the bytes it was parsed from, while those
// are still there. use may be called more than once: the last call is the
// answer, unless loadData returns an error other than an *InvalidError
// (the bytes of an earlier call were found to be no whole version, and no
// whole version came after): then there is none.
func loadData(path string, opt *Options, read reader, keep func(string) bool, use func(*Sessions, []byte)) error {
	v, err := readVersion(path, opt, read, keep, use)
	if err != nil {
		return err
	}
	if !v.shown {
		use(v.s, v.data)
	}
	return v.perr
}

// A versionRead is one version of a file as a read found it.
type versionRead struct {
	s    *Sessions // what it parsed to
	perr error     // the parse's error: an *InvalidError, whose valid part s is
	// data is the bytes s was parsed from, copied; nil for no file, and for
	// a mapped version, whose bytes were released once shown.
	data  []byte
	shown bool // mapped: handed to readVersion's show before its check
	// at is the file's size and times when it was read; settled, that they
	// were older than the file's timestamp window then (see
	// fileVersion.recent), so that any later change moves them.
	at      fileVersion
	settled bool
	// fi is the file read, for its identity: a retry reads by path, which
	// may name another file than the first read's.
	fi fs.FileInfo
}

// readVersion reads and parses the file at path, answering from one version
// of it only: a read that overlapped a change (the file's size, times,
// identity or, for a file changed recently, its bytes read twice, differ)
// is read again, and so is a file caught while it is rewritten in place
// (empty, or JSON cut short) and an open or read that the file server
// refused as stale (ESTALE: another client replaced the file), as
// waitWhole waits. The first read is read's; the others copy the file (a
// copy taken in one quick read has a better chance of catching a file
// rewritten in place whole than a mapping that must stay whole while it is
// parsed). A file that is missing is no sessions (and no bytes). The error
// returned comes without a version: the parse's is the version's perr.
//
// Mapped bytes can change while they are parsed: a mapped version is
// handed to show (which copies what it keeps) before the check that they
// did not, and comes back shown, without its bytes. A reader that maps
// needs a show; one that copies does not.
func readVersion(path string, opt *Options, read reader, keep func(string) bool, show func(*Sessions, []byte)) (versionRead, error) {
	checked := false
	return waitWhole(opt, func(try int) look {
		if try == 1 {
			read = copyFile
		}
		snap, err := read(path, opt)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return look{done: true, v: versionRead{s: &Sessions{}}}
		case stale(err):
			return look{why: err}
		case err != nil:
			return look{done: true, err: err}
		}
		if !checked {
			checkMode(path, snap.version.mode, opt)
			checked = true
		}
		return snap.parse(path, opt, keep, show)
	}, func(why error) error { return gaveUp(path, why) })
}

// A look is what one read of a file found. done: v is the answer, or err
// ends the wait without one. Otherwise why says what stood in the way:
// errTorn (v is then what the torn file parsed to, and seen what it looked
// like), errChanged, or an error to try again after (ESTALE).
type look struct {
	done bool
	v    versionRead
	err  error
	why  error
	seen observation
}

// waitWhole is the one wait for a whole version of a file: it looks (try
// counts the looks from 0) until a look is done, and returns what it found.
// Between looks it sleeps by opt's clock, 1 ms at first, doubling up to
// 20 ms. A torn file is taken as it is only once this program has seen it
// stay exactly the same (size, times, bytes) for AbandonAfter by its own
// clock: never on a first look, whatever its times say, since a file system
// may show a file truncated before it updates its times (ext4 does, for
// milliseconds on a large file). After MaxWait it gives up with
// giveUp(why) of the last look. The wait is bounded even by a clock that
// does not move (a test's): the pauses asked for count too.
func waitWhole(opt *Options, try func(try int) look, giveUp func(why error) error) (versionRead, error) {
	var (
		start, seen time.Time
		last        observation
		// slept counts the pauses asked for; sleptSeen is its value when
		// the file last changed.
		slept, sleptSeen time.Duration
	)
	delay := time.Millisecond
	for n := 0; ; n++ {
		now := opt.now()
		if n == 0 {
			start, seen = now, now
		}
		l := try(n)
		if l.done {
			return l.v, l.err
		}
		var seeing observation
		if l.why == errTorn {
			seeing = l.seen
			if n > 0 && seeing == last && max(now.Sub(seen), slept-sleptSeen) >= AbandonAfter {
				// Left alone for long enough: an abandoned write, taken as
				// it is (empty: no sessions; cut short: not valid JSON).
				return l.v, nil
			}
		}
		if seeing != last {
			seen, sleptSeen, last = now, slept, seeing
		}
		if max(now.Sub(start), slept) >= MaxWait {
			return versionRead{}, giveUp(l.why)
		}
		opt.sleep(delay)
		slept += delay
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// What a read can run into, short of an answer.
var (
	errTorn    = errors.New("torn")
	errChanged = errors.New("changed")
)

// gaveUp is the error of a read that found no whole version for MaxWait.
func gaveUp(path string, why error) error {
	switch why {
	case errTorn:
		return fmt.Errorf("%w: %s stayed incomplete and kept changing for %s (cryosparc-tools or another program is writing it); try again", ErrBusy, printable(path), text.Duration(MaxWait))
	case errChanged:
		return fmt.Errorf("%w: %s changed while it was read, every time, for %s (cryosparc-tools or another program keeps rewriting it); try again", ErrBusy, printable(path), text.Duration(MaxWait))
	}
	if stale(why) {
		why = syscall.ESTALE
	}
	return fmt.Errorf("%w: reading %s: the file server kept answering ESTALE (%w) for %s: another client keeps replacing the file, or the mount is broken; try again", ErrUnsafe, printable(path), why, text.Duration(MaxWait))
}

// stale reports whether err is the NFS error for a file that another
// client replaced or removed after this one looked it up: the path, looked
// up again, names the new file.
func stale(err error) bool { return errors.Is(err, syscall.ESTALE) }

// parse parses the snapshot: a whole version of the file is done; a torn
// one (to be taken as it is once the write counts as abandoned) says what
// it looked like; one that changed while it was read is no version. A
// mapped version is handed to show before its check (see readVersion).
// The snapshot is released.
func (snap *snapshot) parse(path string, opt *Options, keep func(string) bool, show func(*Sessions, []byte)) look {
	defer snap.close()
	// Copied bytes are one version when the file is still as it was when
	// opened, checked before the parse so that a file rewritten often has
	// the shortest window to be caught unchanged in; mapped bytes can
	// still change while they are parsed, and are checked after.
	mapped := snap.unmap != nil
	if snap.differed || !mapped && !snap.unchanged(path) {
		return look{why: errChanged}
	}
	var l look
	faulted := guard(func() {
		s, perr := parseFile(snap.data, path, opt.expiryNow(), keep)
		l.v = versionRead{s: s, perr: perr, at: snap.version, fi: snap.fi, settled: !snap.recent}
		if inProgress(snap.data, perr) {
			// What a torn file parses to holds nothing of its bytes once
			// copied: it is taken as it is only on a later look, a copy.
			l.why, l.seen = errTorn, observation{snap.version, maphash.Bytes(observeSeed(), snap.data)}
		} else if mapped {
			show(s, snap.data)
			l.v.shown = true
		}
	})
	if faulted || mapped && !snap.unchanged(path) {
		return look{why: errChanged}
	}
	if !mapped {
		l.v.data = snap.data
	}
	l.done = l.why == nil
	return l
}

// inProgress reports whether what was read looks like a file caught while
// it is rewritten in place: empty, or JSON cut short.
func inProgress(data []byte, err error) bool {
	var inv *InvalidError
	return len(data) == 0 || errors.As(err, &inv) && inv.Truncated()
}

// Timestamp resolution. A file system records a change at a time up to its
// resolution before the change: 1 s on ext4 with 128-byte inodes and on
// NFS exports of ext3, 2 s for FAT's modification time, one clock tick (at
// most 10 ms) where times carry nanoseconds. Times whose nanoseconds are
// all zero are taken to be coarse.
const (
	fineResolution   = 50 * time.Millisecond
	coarseResolution = 2 * time.Second
	// clockSkew is how far the file server's clock (which sets the times
	// of a file over NFS) may be behind this machine's for a file changed
	// recently still to be seen as recent.
	clockSkew = 2 * time.Second
)

// resolution is how long before a change the file's times may say it was.
func (v fileVersion) resolution() time.Duration {
	if v.ctime.Nanosecond() == 0 && v.mtime.Nanosecond() == 0 {
		return coarseResolution
	}
	return fineResolution
}

// recent reports whether the file may have changed within the last
// clockSkew (plus its resolution) by this machine's clock: a change made
// while it is read could then leave its times as they were, and only its
// bytes, read twice, tell.
func (v fileVersion) recent(now time.Time) bool {
	window := clockSkew + v.resolution()
	return now.Sub(v.ctime) < window || now.Sub(v.mtime) < window
}

// fileVersion tells versions of a file apart without reading it.
type fileVersion struct {
	size         int64
	mtime, ctime time.Time
	mode         fs.FileMode
}

func versionOf(fi fs.FileInfo, opt *Options) fileVersion {
	mtime, ctime := opt.timesOf(fi)
	return fileVersion{size: fi.Size(), mtime: mtime, ctime: ctime, mode: fi.Mode()}
}

// observation is what a torn file looked like when read: while it stays
// the same, the write is not going on. Its bytes count too, for times too
// coarse to tell two versions of the same size apart.
type observation struct {
	version fileVersion
	sum     uint64
}

// observeSeed is the seed of the observations' sums, made when the first
// is taken: a torn read is rare, and start-up runs no code for it.
var observe struct {
	once sync.Once
	seed maphash.Seed
}

func observeSeed() maphash.Seed {
	observe.once.Do(func() { observe.seed = maphash.MakeSeed() })
	return observe.seed
}

// snapshot is the bytes of a file read once, with what is needed to tell
// whether they are one version of it.
type snapshot struct {
	data    []byte
	version fileVersion // when opened
	fi      fs.FileInfo // when opened, for its identity
	f       *os.File    // open until close, to be looked at again
	unmap   func()      // for mapped data
	opt     *Options    // whose clock and times it was read by
	// recent: the file's times were within their window when it was
	// read (see fileVersion.recent); differed: then two reads of it gave
	// different bytes.
	recent, differed bool
}

// unchanged reports whether the file is still the one that was read, as
// it was when opened: the same size and times on the descriptor read, and
// the path still naming it (not replaced by a rename).
func (snap *snapshot) unchanged(path string) bool {
	fi, err := snap.f.Stat()
	if err != nil || versionOf(fi, snap.opt) != snap.version {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(snap.fi, now)
}

func (snap *snapshot) close() {
	if snap.unmap != nil {
		snap.unmap()
	}
	snap.f.Close()
}

// copyFile reads the file at path into memory; a file that changed
// recently (see fileVersion.recent) is read twice.
func copyFile(path string, opt *Options) (*snapshot, error) {
	return reading{}.reader(copyOpen)(path, opt)
}

// A reading is where one command reads the session file and its record
// of recent writes from: as root, through one walk of the path
// (safefile.ReadFolder), the folder kept open and both files opened in it
// with every check of safefile.OpenReadAsRoot; otherwise, and when that
// walk fails (each open then walks again, and fails as before), by path.
type reading struct{ dir *safefile.ReadFolder }

func openReading(path string) (at reading) {
	if os.Geteuid() == 0 {
		at.dir, _ = safefile.OpenReadFolderAsRoot(path, nil) // failed: each open walks again, and says why
	}
	return at
}

// reader is a first read: the file opened by openStat, then read.
func (at reading) reader(read func(string, *os.File, fs.FileInfo, *Options) (*snapshot, error)) reader {
	return func(path string, opt *Options) (*snapshot, error) {
		f, fi, err := at.openStat(path, opt)
		if err != nil {
			return nil, err
		}
		return read(path, f, fi, opt)
	}
}

// copyOpen reads f, opened at path and then described by fi, into memory;
// when it changed recently, twice, to compare.
func copyOpen(path string, f *os.File, fi fs.FileInfo, opt *Options) (*snapshot, error) {
	now, fault := opt.wallNow(), opt.faults()
	snap := &snapshot{version: versionOf(fi, opt), fi: fi, f: f, opt: opt}
	var err error
	snap.data, err = readAll(f, fi.Size(), fault)
	if snap.recent = snap.version.recent(now); err == nil && snap.recent {
		var same bool
		same, err = readsAgain(f, snap.data, fault)
		snap.differed = !same
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
	}
	return snap, nil
}

// openStat opens the file, says what it is, and refuses what is not a
// regular file of at most MaxFileSize bytes. Run as root, it opens it
// through no link a user planted toward what that user does not own.
func (at reading) openStat(path string, opt *Options) (*os.File, fs.FileInfo, error) {
	fault := opt.faults()
	var f *os.File
	var err error
	switch {
	case at.dir != nil:
		f, err = at.dir.Open()
	case os.Geteuid() == 0:
		f, err = safefile.OpenReadAsRoot(path, nil) // through no link a user planted
	default:
		f, err = safefile.OpenRead(path)
	}
	if fault != nil && err == nil {
		if err = fault("open"); err != nil {
			f.Close()
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrUnsafe) || errors.Is(err, ErrBadPath) {
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
		return fmt.Errorf("%w: %s is not a regular file (%s); give the path of the session file", ErrUnsafe, printable(path), safefile.Kind(fi.Mode()))
	}
	if fi.Size() > MaxFileSize {
		return fmt.Errorf("%w: %s is %d bytes, more than the %d MiB a session file may have; is it the right file?", ErrUnsafe, printable(path), fi.Size(), MaxFileSize>>20)
	}
	return nil
}

// readAll reads f, which had size bytes when opened, from its start to
// its end, refusing to read more than MaxFileSize.
func readAll(f *os.File, size int64, fault func(string) error) ([]byte, error) {
	data := make([]byte, 0, size+512)
	for {
		n, err := readAt(f, data[len(data):cap(data)], int64(len(data)), fault)
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

// readsAgain reads f from its start again and reports whether it still
// holds exactly data, comparing as it goes instead of keeping a second
// copy.
func readsAgain(f *os.File, data []byte, fault func(string) error) (bool, error) {
	buf := make([]byte, min(len(data)+1, 64<<10))
	for off := 0; ; {
		n, err := readAt(f, buf, int64(off), fault)
		if n > len(data)-off || !bytes.Equal(buf[:n], data[off:off+n]) {
			return false, nil
		}
		off += n
		if err == io.EOF {
			return off == len(data), nil
		}
		if err != nil {
			return false, err
		}
	}
}

// readAt is f.ReadAt, with the errors a test injects.
func readAt(f *os.File, b []byte, off int64, fault func(string) error) (int, error) {
	if fault != nil {
		if err := fault("read"); err != nil {
			return 0, err
		}
	}
	return f.ReadAt(b, off)
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
	if mode.Perm()&0o077 != 0 && !safefile.IsWindows() {
		opt.warn("%s has permissions %#o; it should be readable by its owner only (chmod 600 %s)", printable(path), mode.Perm(), printable(path))
	}
}
