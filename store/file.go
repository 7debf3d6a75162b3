package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// DefaultPath returns where cryosparc-tools keeps its sessions on goos:
// %APPDATA%\cryosparc-tools\auth.json on Windows, otherwise
// $XDG_CONFIG_HOME/cryosparc-tools/auth.json when XDG_CONFIG_HOME is not
// blank, else ~/.config/cryosparc-tools/auth.json (macOS included). home is
// the user's home folder. CRYOSPARC_AUTH_FILE, when set, overrides it all.
func DefaultPath(goos string, env func(key string) (string, bool), home string) string {
	if v, ok := env("CRYOSPARC_AUTH_FILE"); ok && v != "" {
		return v
	}
	var dir string
	if goos == "windows" {
		dir, _ = env("APPDATA")
		if dir == "" {
			dir = filepath.Join(home, "AppData", "Roaming")
		}
		dir = filepath.Clean(dir)
	} else if v, _ := env("XDG_CONFIG_HOME"); strings.TrimSpace(v) != "" {
		dir = v
	} else {
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "cryosparc-tools", "auth.json")
}

// Errors callers branch on.
var (
	// ErrLockTimeout: another process held the lock for longer than allowed.
	ErrLockTimeout = errkind.New(errkind.File, "timed out waiting for the lock on the session file")
	// ErrUnsafe: the file or its folder cannot be read or written safely.
	ErrUnsafe = errkind.New(errkind.File, "session file cannot be accessed safely")
	// ErrBusy: the file stayed incomplete, and kept changing, for longer
	// than a reader waits: another program is writing it.
	ErrBusy = errkind.New(errkind.File, "the session file is being written by another program")
	// ErrBadPath: the path given for the session file cannot be meant.
	ErrBadPath = errkind.New(errkind.BadInput, "unusable session file path")
)

// Limits on the files read and how long a reader waits for a file that is
// being written.
const (
	// MaxFileSize is the largest session file read: far above any real one
	// (100,000 sessions take 27 MB).
	MaxFileSize = 256 << 20
	// AbandonAfter is how long a file must have been left alone, empty or
	// cut short, before it counts as a write that was abandoned rather than
	// one in progress (cryosparc-tools truncates, then writes; on a loaded
	// node or over NFS it can stall in between).
	AbandonAfter = 2 * time.Second
	// MaxWait bounds the wait for a file that stays incomplete while it
	// keeps changing.
	MaxWait = 10 * time.Second
	// DefaultLockTimeout is how long a change waits for the lock unless told.
	DefaultLockTimeout = 10 * time.Second
)

// Options tune reading and updating a session file. The zero value is
// usable: the clock is time.Now, expired sessions are dropped, the lock is
// tried once.
type Options struct {
	Now func() time.Time
	// LockTimeout is how long a change waits for another process's lock;
	// zero or less tries once.
	LockTimeout time.Duration
	// KeepExpired keeps sessions that have expired, which cryosparc-tools
	// drops: to list or check them.
	KeepExpired bool
	// Warn receives human-readable warnings (e.g. a file readable by others).
	Warn func(msg string)
	// Sleep pauses between reads of a file caught while being written; nil
	// is time.Sleep. A test passes one that moves its clock instead.
	Sleep func(time.Duration)
}

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// expiryNow is the instant at or before which sessions count as expired.
func (o *Options) expiryNow() time.Time {
	if o != nil && o.KeepExpired {
		return time.Time{}
	}
	return o.now()
}

func (o *Options) sleep(d time.Duration) {
	if o != nil && o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}

func (o *Options) warn(format string, a ...any) {
	if o != nil && o.Warn != nil {
		o.Warn(fmt.Sprintf(format, a...))
	}
}

// CheckPath refuses a session file path that cannot be what the user
// meant: blank, or starting with "~", which a shell did not expand.
func CheckPath(path string) error {
	switch {
	case strings.TrimSpace(path) == "":
		return fmt.Errorf("%w: the session file path is blank", ErrBadPath)
	case strings.HasPrefix(path, "~"):
		return fmt.Errorf("%w: %s starts with \"~\", which the shell did not expand (it does not inside quotes); write $HOME/… instead", ErrBadPath, printable(path))
	}
	return nil
}

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

// Lookup returns the session Find(url, email) returns in the file at path,
// reading it as Load does but building no more than the answer needs: it is
// the fast way to answer one question. When the file holds entries
// cryosparc-tools would reject, the answer comes from its valid part, with
// the *InvalidError.
func Lookup(path string, opt *Options, url, email string) (sess Session, found bool, err error) {
	err = load(path, opt, mapFile, mayName(url), func(s *Sessions) {
		sess, found = s.Find(url, email)
		// The file's bytes are released after this: keep copies.
		sess.URL, sess.Email, sess.Token = strings.Clone(sess.URL), strings.Clone(sess.Email), strings.Clone(sess.Token)
	})
	return sess, found, err
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

// guard runs f, turning a memory fault (a mapped file truncated under
// it) into a true result instead of a crash.
func guard(f func()) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(interface{ Addr() uintptr }); ok && e != nil {
				faulted = true
				return
			}
			panic(r)
		}
	}()
	f()
	return false
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

// existing returns what is at target (nil when nothing is), refusing what
// this program must not replace: not a regular file, too large, or a file
// whose owner may not write it (cryosparc-tools fails on it too).
func existing(target string) (fs.FileInfo, error) {
	fi, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	if err := checkRegular(target, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o200 == 0 && !isWindows() {
		return nil, fmt.Errorf("%w: %s is read-only (mode %#o), so it is not changed (cryosparc-tools cannot write it either); chmod u+w it if it should change", ErrUnsafe, printable(target), fi.Mode().Perm())
	}
	return fi, nil
}

// Update changes the session file at path under an exclusive lock: it reads
// the file, calls change, and when change returns nil writes the result
// atomically (a new file in the same folder, flushed to disk, renamed over
// the old one, with the old one's owner and group; a symlink stays a
// symlink and its target is replaced). A file being written by another
// program is waited for as Load does, and never replaced while it is. A
// file that cryosparc-tools would reject is never rewritten: Update returns
// its *InvalidError and leaves it as it is; when the file does not look
// like a session file at all, nothing is created beside it either (no lock
// file). If change reports nothing to write (ErrNoChange), the file is left
// untouched.
func Update(path string, opt *Options, change func(*Sessions) error) error {
	target, unlock, err := lockTarget(path, opt)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := Load(target, opt)
	if err != nil {
		return err
	}
	fi, err := existing(target)
	if err != nil {
		return err
	}
	if err := change(s); err != nil {
		if errors.Is(err, ErrNoChange) {
			return nil
		}
		return err
	}
	return writeAtomic(target, s.Marshal(), fi)
}

// lockTarget resolves path to the file to replace, checks that it may be
// replaced, and takes the lock on it. A file that is not a session file is
// refused before anything is created beside it.
func lockTarget(path string, opt *Options) (target string, unlock func(), err error) {
	if target, err = resolve(path); err != nil { // resolve checks the path too
		return "", nil, err
	}
	fi, err := existing(target)
	if err != nil {
		return "", nil, err
	}
	if fi != nil {
		if _, err := os.Lstat(lockPath(target)); err != nil {
			// No lock file yet: make sure this is a session file before
			// creating one beside it.
			if _, err := Load(target, &Options{Now: opt.now, KeepExpired: true, Sleep: opt.sleep}); isForeign(err) {
				return "", nil, err
			}
		}
	}
	dir := filepath.Dir(target)
	if err := mkdirAll(dir); err != nil {
		return "", nil, err
	}
	ref := fi
	if ref == nil {
		ref, _ = os.Stat(dir)
	}
	unlock, err = lock(target, opt, ref)
	if err != nil {
		return "", nil, err
	}
	removeStaleTemps(target)
	return target, unlock, nil
}

func isForeign(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv) && inv.Foreign()
}

// mkdirAll creates dir and the folders above it that are missing, 0700.
// Run as root, each new folder gets the owner of the folder above it, so
// that an administrator creating a user's file leaves it the user's.
func mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: creating %s: %w", ErrUnsafe, printable(dir), err)
	}
	if os.Geteuid() == 0 {
		if pi, err := os.Stat(parent); err == nil {
			if uid, gid, ok := owner(pi); ok {
				os.Lchown(dir, uid, gid)
			}
		}
	}
	return nil
}

// Save replaces the file at path with s, under the lock, atomically, as
// cryosparc-tools' save() would write it. Whatever the file held is lost,
// including changes other processes made since s was loaded: to change the
// file, use Update. Like Update, Save refuses to overwrite a file that
// cryosparc-tools would reject.
func Save(path string, opt *Options, s *Sessions) error {
	return Update(path, opt, func(current *Sessions) error {
		*current = *s
		return nil
	})
}

// ErrNoChange is what an Update's change function returns to leave the file
// untouched.
var ErrNoChange = errors.New("nothing to change")

// resolve follows symbolic links to the file that is to be replaced, as
// the kernel follows them when the file is opened: a relative link is read
// from the real folder that holds it, and ".." climbs from there, so that
// every spelling of the path reads, locks and writes the same file.
func resolve(path string) (string, error) {
	if err := CheckPath(path); err != nil {
		return "", err
	}
	for i := 0; i < 40; i++ {
		dir, base := filepath.Split(path)
		if base == "" || base == "." || base == ".." {
			return "", fmt.Errorf("%w: %s names a folder, not a file", ErrBadPath, printable(path))
		}
		if dir == "" {
			dir = "."
		}
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, fs.ErrNotExist) {
			// The folder does not exist yet: it will be created as named.
			return filepath.Clean(path), nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		p := filepath.Join(real, base)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if !filepath.IsAbs(link) {
			// Not filepath.Join, which would take ".." as text.
			link = real + string(filepath.Separator) + link
		}
		path = link
	}
	return "", fmt.Errorf("%w: too many symbolic links at %s", ErrUnsafe, printable(path))
}

func lockPath(target string) string { return target + ".lock" }

// lock takes the advisory lock on target's sibling lock file, waiting at
// most the lock timeout (zero: trying once). A lock file created by root
// gets the owner of ref, the session file or its folder, so that the
// user's own runs can still open it; a lock file this user cannot write
// (left by root before) is locked through a read-only handle.
func lock(target string, opt *Options, ref fs.FileInfo) (func(), error) {
	var timeout time.Duration
	if opt != nil {
		timeout = opt.LockTimeout
	}
	lp := lockPath(target)
	fl := flock.New(lp, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if errors.Is(err, fs.ErrPermission) {
		fl = flock.New(lp, flock.SetFlag(os.O_RDONLY))
		ok, err = fl.TryLock()
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w: the lock file %s belongs to another user (an older version run as root leaves it so) and cannot be opened; remove it (rm %s) while no other program uses the session file: %w",
			ErrUnsafe, printable(lp), printable(lp), err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, printable(lp), err)
	}
	if os.Geteuid() == 0 && ref != nil {
		if uid, gid, ok := owner(ref); ok {
			os.Lchown(lp, uid, gid)
		}
	}
	unlock := func() { fl.Unlock() }
	if ok {
		return unlock, nil
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%w %s: another process holds it (retry, or give --lock-timeout)", ErrLockTimeout, printable(lp))
	}
	// Wait in a blocking lock, which the kernel (or the NFS server) grants
	// the moment the holder lets go, rather than polling.
	got := make(chan error, 1)
	go func() { got <- fl.Lock() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, printable(lp), err)
		}
		return unlock, nil
	case <-timer.C:
		// The waiter may still be granted the lock: give it back at once.
		go func() {
			if <-got == nil {
				fl.Unlock()
			}
		}()
		return nil, fmt.Errorf("%w %s after %s; another process holds it (retry, or raise --lock-timeout)", ErrLockTimeout, printable(lp), timeout)
	}
}

// tempPrefix starts the names of new files being written; a file with this
// prefix found while the lock is held was left by a writer that died.
func tempPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

func removeStaleTemps(target string) {
	dir := filepath.Dir(target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(target)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// newTemp creates the file that will replace target: in the same folder,
// with a random name that holds no secret, mode 0600 from the start.
func newTemp(target string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(target), tempPrefix(target))
}

// writeAtomic replaces target with data: a new 0600 file in the same folder,
// written, flushed to disk, renamed over target, and the folder flushed.
// The new file gets the owner and group of old, the file it replaces; a new
// file created by root gets those of its folder. When they cannot be kept,
// nothing is replaced.
func writeAtomic(target string, data []byte, old fs.FileInfo) error {
	dir := filepath.Dir(target)
	f, err := newTemp(target)
	if err != nil {
		return fmt.Errorf("%w: creating a file in %s: %w", ErrUnsafe, printable(dir), err)
	}
	tmp := f.Name()
	fail := func(what string, err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, printable(tmp), err)
	}
	if err := f.Chmod(0o600); err != nil && !isWindows() {
		return fail("setting permissions of", err)
	}
	ref := old
	if ref == nil && os.Geteuid() == 0 {
		ref, _ = os.Stat(dir)
	}
	if ref != nil {
		if err := keepOwner(f, ref); err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("%w: %s belongs to another user or group, which a replacement written by this user would not keep (%w); run as its owner", ErrUnsafe, printable(target), err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fail("writing", err)
	}
	if err := f.Sync(); err != nil {
		return fail("flushing", err)
	}
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: replacing %s: %w", ErrUnsafe, printable(target), err)
	}
	syncDir(dir)
	return nil
}

// ErrNotRepaired: Repair would have to turn a file that is not a session
// file, or one that is not JSON, into an empty one; it does so only when
// forced.
var ErrNotRepaired = errkind.New(errkind.File, "not repaired")

// Repair rewrites the file at path with only what cryosparc-tools would
// keep of it: the valid entries, without expired sessions, in its own
// layout, mode 0600. The original is first copied to
// path.bak-<UTC timestamp> (0600), whose name Repair returns. A file that
// needs nothing, an empty file (cryosparc-tools reads it as no sessions)
// and a missing one are left alone and Repair returns "". A file that does
// not look like a session file, or a non-empty one with nothing valid left
// to keep (not JSON), is not touched unless force is true: that would
// leave "{}" in its place (the backup keeps the original).
func Repair(path string, opt *Options, force bool) (backup string, err error) {
	target, err := resolve(path) // checks the path too
	if err != nil {
		return "", err
	}
	fi, err := existing(target)
	if fi == nil || err != nil {
		return "", err
	}
	if fi.Size() == 0 {
		return "", nil
	}
	var unlock func()
	if force {
		unlock, err = lock(target, opt, fi)
	} else {
		// Refuses a file that is not a session file before locking.
		_, unlock, err = lockTarget(target, &Options{Now: opt.now, LockTimeout: opt.LockTimeout, Sleep: opt.sleep})
	}
	if err != nil {
		if isForeign(err) {
			return "", fmt.Errorf("%w: %w; only --force changes it (keeping a backup)", ErrNotRepaired, err)
		}
		return "", err
	}
	defer unlock()

	raw, version, _, err := readFile(target)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(raw) == 0 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	s, perr := Load(target, &Options{Now: opt.now, Sleep: opt.sleep})
	if s == nil {
		return "", perr
	}
	var inv *InvalidError
	if errors.As(perr, &inv) && (inv.Syntax() || inv.Foreign()) && !force {
		return "", fmt.Errorf("%w: %s holds nothing that can be kept (%s); only --force replaces it with an empty session file, keeping a backup", ErrNotRepaired, printable(target), inv.Problems[0])
	}
	if errors.Is(perr, ErrBusy) {
		return "", perr
	}
	clean := s.Marshal()
	if perr == nil && string(clean) == string(raw) && (version.mode.Perm() == 0o600 || isWindows()) {
		return "", nil
	}
	backup = target + ".bak-" + opt.now().UTC().Format("20060102T150405Z")
	if err := writeNew(backup, raw, fi); err != nil {
		return "", err
	}
	if err := writeAtomic(target, clean, fi); err != nil {
		return backup, err
	}
	return backup, nil
}

// writeNew writes data to a new 0600 file at path, flushed to disk, with
// the owner of ref.
func writeNew(path string, data []byte, ref fs.FileInfo) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: creating the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	if os.Geteuid() == 0 {
		keepOwner(f, ref)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("%w: writing the backup %s: %w", ErrUnsafe, printable(path), err)
	}
	return nil
}

// printable makes a path or value safe to show in a message.
func printable(s string) string { return text.Safe(s) }
