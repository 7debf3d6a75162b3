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
)

// Env looks up an environment variable, like os.LookupEnv.
type Env func(key string) (string, bool)

// DefaultPath returns where cryosparc-tools keeps its sessions on goos:
// %APPDATA%\cryosparc-tools\auth.json on Windows, otherwise
// $XDG_CONFIG_HOME/cryosparc-tools/auth.json when XDG_CONFIG_HOME is not
// blank, else ~/.config/cryosparc-tools/auth.json (macOS included). home is
// the user's home folder. CRYOSPARC_AUTH_FILE, when set, overrides it all.
func DefaultPath(goos string, env Env, home string) string {
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
	ErrLockTimeout = errors.New("timed out waiting for the lock on the session file")
	// ErrUnsafe: the file or its folder cannot be read or written safely.
	ErrUnsafe = errors.New("session file cannot be accessed safely")
)

// Options tune reading and updating a session file. The zero value is
// usable: the clock is time.Now, lock timeout 10 s, read retries over about
// 100 ms.
type Options struct {
	Now         func() time.Time
	LockTimeout time.Duration
	// Warn receives human-readable warnings (e.g. a file readable by others).
	Warn func(msg string)
}

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) warn(format string, a ...any) {
	if o != nil && o.Warn != nil {
		o.Warn(fmt.Sprintf(format, a...))
	}
}

// A read that finds the file torn (empty, or not JSON) tries again every
// readRetryDelay. It gives up once the file has stayed the same for
// readPatience, or after readLimit in all while it keeps changing: a file
// left torn by a dead writer fails in about 100 ms, while one that a writer
// keeps rewriting in place (cryosparc-tools truncates, then writes) is
// waited for until a whole version is read.
const (
	readPatience   = 100 * time.Millisecond
	readLimit      = 3 * time.Second
	readRetryDelay = time.Millisecond
)

// Load reads the session file at path. A missing file holds no sessions. A
// file that is empty or does not parse is read again for a while (see
// readPatience), since cryosparc-tools rewrites it in place; a file still
// empty after that holds no sessions. As with Parse, an invalid file gives
// its valid part and an *InvalidError.
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

// load reads and parses the file at path, retrying torn reads, and hands
// the result to use while its bytes are still there. A file that is
// missing is handed over as no sessions.
func load(path string, opt *Options, read reader, keep func(string) bool, use func(*Sessions)) error {
	var (
		start, changed time.Time
		last           fileVersion
	)
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
			return fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if try == 0 {
			checkMode(path, version.mode, opt)
		}
		var s *Sessions
		faulted := guard(func() {
			s, err = parseFile(data, path, opt.now(), keep)
			if !tornRead(data, err) {
				use(s)
			}
		})
		release()
		if !faulted && !tornRead(data, err) {
			return err
		}
		now := time.Now()
		switch {
		case try == 0:
			start, changed = now, now
		case version != last:
			changed = now
		}
		last = version
		if now.Sub(changed) > readPatience || now.Sub(start) > readLimit {
			if faulted {
				return fmt.Errorf("%w: %s kept changing while being read", ErrUnsafe, path)
			}
			// A torn file parses to no sessions: s holds nothing of the
			// released bytes.
			use(s)
			return err
		}
		time.Sleep(readRetryDelay)
	}
}

// tornRead reports whether what was read looks like a file caught while
// being rewritten in place: empty, or not JSON.
func tornRead(data []byte, err error) bool {
	var inv *InvalidError
	return len(data) == 0 || errors.As(err, &inv) && inv.Syntax()
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
	size  int64
	mtime time.Time
	mode  fs.FileMode
}

func versionOf(fi fs.FileInfo) fileVersion {
	return fileVersion{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
}

// openStat opens the file and says what it is.
func openStat(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readFile reads the whole file into memory, and what it was when opened.
func readFile(path string) ([]byte, fileVersion, func(), error) {
	f, fi, err := openStat(path)
	if err != nil {
		return nil, fileVersion{}, nil, err
	}
	defer f.Close()
	data, err := readAll(f, fi.Size())
	return data, versionOf(fi), func() {}, err
}

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
		opt.warn("%s has permissions %#o; it should be readable by its owner only (chmod 600 %s)", path, mode.Perm(), path)
	}
}

// Update changes the session file at path under an exclusive lock: it reads
// the file, calls change, and when change returns nil writes the result
// atomically (a new file in the same folder, flushed to disk, renamed over
// the old one; a symlink stays a symlink and its target is replaced). A file
// that cryosparc-tools would reject is never rewritten: Update returns its
// *InvalidError and leaves it as it is. If change reports nothing to write
// (ErrNoChange), the file is left untouched.
func Update(path string, opt *Options, change func(*Sessions) error) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: creating %s: %w", ErrUnsafe, dir, err)
	}
	unlock, err := lock(target, opt)
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(target)

	s, err := Load(target, opt)
	if err != nil {
		return err
	}
	if err := change(s); err != nil {
		if errors.Is(err, ErrNoChange) {
			return nil
		}
		return err
	}
	return writeAtomic(target, s.Marshal())
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

// resolve follows symlinks to the file that is to be replaced, so that a
// symlinked auth.json stays a symlink.
func resolve(path string) (string, error) {
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return "", fmt.Errorf("%w: %s is not a regular file", ErrUnsafe, path)
			}
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("%w: too many symbolic links at %s", ErrUnsafe, path)
}

// lock takes the advisory lock on path's sibling lock file, waiting at most
// the lock timeout.
func lock(path string, opt *Options) (func(), error) {
	timeout := 10 * time.Second
	if opt != nil && opt.LockTimeout > 0 {
		timeout = opt.LockTimeout
	}
	lockPath := path + ".lock"
	fl := flock.New(lockPath, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	unlock := func() { fl.Unlock() }
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, lockPath, err)
	}
	if ok {
		return unlock, nil
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
			return nil, fmt.Errorf("%w: locking %s: %w", ErrUnsafe, lockPath, err)
		}
		return unlock, nil
	case <-timer.C:
		// The waiter may still be granted the lock: give it back at once.
		go func() {
			if <-got == nil {
				fl.Unlock()
			}
		}()
		return nil, fmt.Errorf("%w %s after %s; another process holds it (retry, or raise --lock-timeout)", ErrLockTimeout, lockPath, timeout)
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
func writeAtomic(target string, data []byte) error {
	dir := filepath.Dir(target)
	f, err := newTemp(target)
	if err != nil {
		return fmt.Errorf("%w: creating a file in %s: %w", ErrUnsafe, dir, err)
	}
	tmp := f.Name()
	fail := func(what string, err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, tmp, err)
	}
	if err := f.Chmod(0o600); err != nil && !isWindows() {
		return fail("setting permissions of", err)
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
		return fmt.Errorf("%w: replacing %s: %w", ErrUnsafe, target, err)
	}
	syncDir(dir)
	return nil
}

// Repair rewrites the file at path with only what cryosparc-tools would
// keep of it: the valid entries, without expired sessions, in its own
// layout, mode 0600. The original is first copied to
// path.bak-<UTC timestamp> (0600), whose name Repair returns. A file that
// needs nothing is left alone and Repair returns "".
func Repair(path string, opt *Options) (backup string, err error) {
	target, err := resolve(path)
	if err != nil {
		return "", err
	}
	unlock, err := lock(target, opt)
	if err != nil {
		return "", err
	}
	defer unlock()
	removeStaleTemps(target)

	raw, version, _, err := readFile(target)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	s, perr := Load(target, &Options{Now: opt.now})
	if s == nil {
		return "", perr
	}
	clean := s.Marshal()
	if perr == nil && string(clean) == string(raw) && (version.mode.Perm() == 0o600 || isWindows()) {
		return "", nil
	}
	backup = target + ".bak-" + opt.now().UTC().Format("20060102T150405Z")
	if err := writeNew(backup, raw); err != nil {
		return "", err
	}
	if err := writeAtomic(target, clean); err != nil {
		return backup, err
	}
	return backup, nil
}

// writeNew writes data to a new 0600 file at path, flushed to disk.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: creating the backup %s: %w", ErrUnsafe, path, err)
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
		return fmt.Errorf("%w: writing the backup %s: %w", ErrUnsafe, path, err)
	}
	return nil
}
