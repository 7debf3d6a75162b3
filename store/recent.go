package store

// The record of recent writes. cryosparc-tools saves without a lock what
// it loaded earlier (its login loads the file, asks the server, then
// saves): a save that loaded before one of this program's writes and
// truncates after it drops that write. Nothing this program can do before
// or during its write prevents that, so every write it acknowledges is
// also noted, for RecentKeep, in an owner-only file beside the session
// file (auth.json.recent), and every later command, reader or writer,
// checks the file against it: a write found dropped is restored (in what
// the command answers at once, and in the file under the lock).
//
// A write is found dropped by the token the file now holds for its
// instance and email, never by times or expiries: cryosparc-tools never
// erases a live session, and replaces one only with a new login, whose
// token is new. So for a session this program stored, the file holding
// no session for that instance and email, or one whose token this program
// itself replaced or erased there within RecentKeep (a save's stale copy),
// means the store was dropped; any other token is a newer login, kept.
// For a session this program erased, the file holding its token again
// means a stale save brought it back. Tokens replaced are kept only as
// SHA-256 sums.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// RecentKeep is how long a write of this program's is kept in the record
// of recent writes, to be restored if a save by cryosparc-tools that loaded
// the file before it drops it: longer than cryosparc-tools' login takes
// between its load and its save (one request to the server, whose client
// waits up to 300 s).
const RecentKeep = 15 * time.Minute

// maxRecentSize bounds the record read: a few hundred bytes a write.
const maxRecentSize = 16 << 20

func recentPath(target string) string { return target + ".recent" }

// recentWrite is this program's last write of one instance and email.
type recentWrite struct {
	URL   string `json:"url"`
	Email string `json:"email"`
	// Erased: the session was erased; else Token and the expiry are what
	// was stored.
	Erased    bool   `json:"erased,omitempty"`
	Token     string `json:"token,omitempty"`
	ExpiresUS int64  `json:"expires_us,omitempty"`
	OffsetMin int32  `json:"offset_min,omitempty"`
	// Replaced holds the SHA-256 sums of the tokens this program replaced
	// or erased for this instance and email within RecentKeep (its own
	// earlier ones too): a file holding one of them again holds a stale
	// save's copy.
	Replaced []string  `json:"replaced,omitempty"`
	At       time.Time `json:"at"`
}

type recentFile struct {
	Version int           `json:"version"`
	Writes  []recentWrite `json:"writes"`
}

func tokenSum(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

func (w *recentWrite) session() Session {
	return Session{URL: w.URL, Email: w.Email, Token: w.Token, Expires: expiryFromMicro(w.ExpiresUS, w.OffsetMin)}
}

// dropped reports whether s lacks the write w: a session stored that it
// does not hold under the same instance key, or holds with a token of
// before (replaced); a session erased that it holds with a token of before.
// A session stored that has expired since is not missed.
func (w *recentWrite) dropped(s *Sessions, now time.Time) bool {
	cur, ok := s.exact(w.URL, w.Email)
	if w.Erased {
		return ok && slices.Contains(w.Replaced, tokenSum(cur.Token))
	}
	if !w.session().Expires.Live(now) {
		return false
	}
	return !ok || cur.Token != w.Token && slices.Contains(w.Replaced, tokenSum(cur.Token))
}

// restoreDropped puts back into s the writes it lacks and reports whether
// there were any.
func restoreDropped(s *Sessions, writes []recentWrite, now time.Time) bool {
	restored := false
	for i := range writes {
		w := &writes[i]
		if !w.dropped(s, now) {
			continue
		}
		restored = true
		if w.Erased {
			s.eraseExact(w.URL, w.Email)
		} else {
			s.putExact(w.URL, w.session())
		}
	}
	return restored
}

// readRecent returns the writes noted beside target that are younger than
// RecentKeep, and whether there is a record at all. A record that is not
// a regular file of target's owner, private to it, is not trusted: it is
// ignored, with a warning, and so is one that cannot be parsed.
func readRecent(target string, opt *Options) (writes []recentWrite, exists bool, err error) {
	path := recentPath(target)
	open := safefile.OpenNoFollow
	if os.Geteuid() == 0 {
		// Root reads the record as it reads the session file: through no
		// link a user planted toward what that user does not own (a
		// user's folder swapped for a link to root's between the two
		// reads must not bring root's record into the user's answer).
		open = func(path string) (*os.File, error) { return safefile.OpenReadAsRoot(path, nil) }
	}
	f, err := open(path)
	return readRecentOpen(path, f, err, func() (int, bool) { return safefile.StatOwner(target) }, opt)
}

// readRecentOpen is readRecent of the record at path, which its open gave
// as f or err; owner gives the user that owns the session file.
func readRecentOpen(path string, f *os.File, err error, owner func() (int, bool), opt *Options) (writes []recentWrite, exists bool, _ error) {
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		// A link (ELOOP), or a file this user may not read: not this
		// program's record. A writer replaces it (the rename replaces the
		// link itself).
		opt.warn("%s cannot be read as this program's record (%v): ignored", printable(path), err)
		return nil, true, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, true, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
	}
	if !safefile.PrivateTo(fi, owner) {
		opt.warn("%s is not a private file of the session file's owner: ignored (remove it)", printable(path))
		return nil, false, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecentSize+1))
	if err != nil {
		return nil, true, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
	}
	if writes, err = parseRecent(data); err != nil {
		opt.warn("%s is damaged (%v): ignored, and replaced at the next write", printable(path), err)
		return nil, true, nil
	}
	return young(writes, opt.now()), true, nil
}

// recentTarget returns the session file whose record a reader of path
// looks for: path itself unless it names a link.
func recentTarget(path string) string {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := safefile.Resolve(path); err == nil {
			return target
		}
	}
	return path
}

// readerRecent returns what a reader of path finds in its record of
// recent writes; what it cannot read is a warning, not a failure of the
// read.
func readerRecent(path string, opt *Options) []recentWrite { return reading{}.recent(path, opt) }

// recent is readerRecent through the walk at holds, if any.
func (at reading) recent(path string, opt *Options) (writes []recentWrite) {
	// Without a session file (removed on purpose, or never made), nothing
	// is restored into it.
	var err error
	if at.dir == nil {
		target := recentTarget(path)
		if _, serr := os.Stat(target); serr == nil {
			writes, _, err = readRecent(target, opt)
		}
	} else {
		// The record first: when there is none, as usual, the session
		// file need not be looked at.
		f, name, oerr := at.dir.OpenBeside(recentPath(""))
		if errors.Is(oerr, fs.ErrNotExist) {
			return nil
		}
		if _, ok := at.dir.FileOwner(); !ok {
			if f != nil {
				f.Close()
			}
			return nil
		}
		writes, _, err = readRecentOpen(name, f, oerr, at.dir.FileOwner, opt)
	}
	if err != nil {
		opt.warn("%v", err)
	}
	return writes
}

// writeBack restores, under the lock, the writes that a reader found
// dropped from the file at path. When the lock is held by another writer,
// that writer restores them.
func writeBack(path string, opt *Options) {
	// The lock is tried once, and expired sessions are dropped as by any
	// write, whatever the reader asked for itself.
	wopt := new(Options)
	*wopt = opt.base()
	wopt.flock, wopt.fault, wopt.maxSize = opt.flockFunc(), opt.faults(), opt.maxFileSize()
	if opt != nil {
		wopt.Warn = opt.Warn
	}
	err := Update(path, wopt, func(*Sessions) error { return ErrNoChange })
	if err != nil && !errors.Is(err, ErrLockTimeout) {
		opt.warn("a session this program wrote was dropped by a program that saved an older copy of the file; it was not restored (%v): run `cryosparc-credential list` to restore it", err)
	}
}

// widen returns keep, which selects the instances a read parses, letting
// through those the writes name too.
func widen(keep func(string) bool, writes []recentWrite) func(string) bool {
	if keep == nil || len(writes) == 0 {
		return keep
	}
	names := make([]func(string) bool, len(writes))
	for i := range writes {
		names[i] = urlrule.MayName(writes[i].URL)
	}
	return func(key string) bool {
		if keep(key) {
			return true
		}
		for _, may := range names {
			if may(key) {
				return true
			}
		}
		return false
	}
}

// parseRecent reads a record of recent writes.
func parseRecent(data []byte) ([]recentWrite, error) {
	if len(data) > maxRecentSize {
		return nil, fmt.Errorf("larger than %d MiB", maxRecentSize>>20)
	}
	var rf recentFile
	if err := json.Unmarshal(data, &rf); err != nil {
		return nil, err
	}
	if rf.Version != 1 {
		return nil, fmt.Errorf("version %d, not 1", rf.Version)
	}
	for _, w := range rf.Writes {
		if !validText(w.URL) || !validText(w.Email) || !validText(w.Token) || w.URL == "" {
			return nil, errors.New("an entry without its instance, or text that is not UTF-8")
		}
	}
	return rf.Writes, nil
}

// young returns the writes made less than RecentKeep before now (and none
// dated in the future by more than that: a clock set back).
func young(writes []recentWrite, now time.Time) []recentWrite {
	out := writes[:0]
	for _, w := range writes {
		if age := now.Sub(w.At); age < RecentKeep && age > -RecentKeep {
			out = append(out, w)
		}
	}
	return out
}

// changes returns the writes that turned before into after: each session
// added or given another token, each session erased; by instance key as
// stored and email. Only the instances that differ (see differing) are
// indexed: in a store into a large file, one instance of many.
func changes(before, after *Sessions, now time.Time) []recentWrite {
	dirty := differing(before, after)
	if len(dirty) == 0 {
		return nil
	}
	type key struct{ url, email string }
	index := func(s *Sessions) map[key]string {
		m := map[key]string{}
		for _, in := range s.instances {
			if !dirty[in.url] {
				continue
			}
			for _, sess := range in.sessions {
				m[key{in.url, sess.Email}] = sess.Token
			}
		}
		return m
	}
	was, is := index(before), index(after)
	var out []recentWrite
	for _, in := range after.instances {
		if !dirty[in.url] {
			continue
		}
		for _, sess := range in.sessions {
			w := recentWrite{URL: in.url, Email: sess.Email, Token: sess.Token, ExpiresUS: sess.Expires.UnixMicro(), OffsetMin: sess.Expires.OffsetMin(), At: now}
			if token, ok := was[key{in.url, sess.Email}]; ok {
				if token == sess.Token {
					continue
				}
				w.Replaced = []string{tokenSum(token)}
			}
			out = append(out, w)
		}
	}
	for _, in := range before.instances {
		if !dirty[in.url] {
			continue
		}
		for _, sess := range in.sessions {
			if _, ok := is[key{in.url, sess.Email}]; !ok {
				out = append(out, recentWrite{URL: in.url, Email: sess.Email, Erased: true, Replaced: []string{tokenSum(sess.Token)}, At: now})
			}
		}
	}
	return out
}

// differing returns the instance keys whose sessions may differ between
// before and after: every key but those held by exactly one instance on
// each side, with the same emails and tokens in the same order. (An
// instance holds an email once: the parser settles duplicates, and every
// change replaces a session of the same email. So such an instance adds
// nothing to changes.)
func differing(before, after *Sessions) map[string]bool {
	dirty := map[string]bool{}
	at := make(map[string]int, len(before.instances))
	for i, in := range before.instances {
		if _, dup := at[in.url]; dup {
			dirty[in.url] = true
		}
		at[in.url] = i
	}
	seen := make(map[string]bool, len(after.instances))
	for _, in := range after.instances {
		i, ok := at[in.url]
		if !ok || seen[in.url] || !sameSessions(in.sessions, before.instances[i].sessions) {
			dirty[in.url] = true
		}
		seen[in.url] = true
	}
	for url := range at {
		if !seen[url] {
			dirty[url] = true
		}
	}
	return dirty
}

// sameSessions reports whether a and b hold the same emails and tokens in
// the same order.
func sameSessions(a, b []Session) bool {
	return slices.EqualFunc(a, b, func(x, y Session) bool { return x.Email == y.Email && x.Token == y.Token })
}

// exact returns the session for email in the instance stored under url
// exactly (not another spelling of it).
func (s *Sessions) exact(url, email string) (Session, bool) {
	for i := range s.instances {
		if in := &s.instances[i]; in.url == url {
			for _, sess := range in.sessions {
				if sess.Email == email {
					return sess, true
				}
			}
			return Session{}, false
		}
	}
	return Session{}, false
}

// putExact stores sess under the instance key url exactly, in place of the
// session of the same email; an instance not there is added.
func (s *Sessions) putExact(url string, sess Session) {
	for i := range s.instances {
		if in := &s.instances[i]; in.url == url {
			sess.URL = url
			for j := range in.sessions {
				if in.sessions[j].Email == sess.Email {
					in.sessions[j] = sess
					return
				}
			}
			in.sessions = append(in.sessions, sess)
			return
		}
	}
	sess.URL = url
	s.instances = append(s.instances, instance{url: url, sessions: []Session{sess}})
}

// eraseExact removes the session of email from the instance stored under
// url exactly, and the instance when it is left with none.
func (s *Sessions) eraseExact(url, email string) {
	for i := range s.instances {
		if in := &s.instances[i]; in.url == url {
			in.sessions = slices.DeleteFunc(in.sessions, func(x Session) bool { return x.Email == email })
			if len(in.sessions) == 0 {
				s.instances = slices.Delete(s.instances, i, i+1)
			}
			return
		}
	}
}

// noted returns the record old with the writes made added: a later write
// of the same instance and email takes the place of the earlier one, and
// inherits the tokens it replaced, its own included.
func noted(old, made []recentWrite) []recentWrite {
	out := slices.Clone(old)
	for _, w := range made {
		i := slices.IndexFunc(out, func(o recentWrite) bool { return o.URL == w.URL && o.Email == w.Email })
		if i < 0 {
			out = append(out, w)
			continue
		}
		prev := out[i]
		replaced := append(slices.Clone(prev.Replaced), w.Replaced...)
		if !prev.Erased {
			replaced = append(replaced, tokenSum(prev.Token))
		}
		slices.Sort(replaced)
		w.Replaced = slices.Compact(replaced)
		out = append(out[:i], out[i+1:]...)
		out = append(out, w)
	}
	return out
}

// writeRecent replaces the record beside target, in the folder d, with
// writes (removes it when there are none): a new private file renamed over
// the old one, with the session file's owner. It is not flushed to disk:
// it guards against programs that run beside this one, which a crash ends
// too. Nothing is replaced once the lock lk is lost.
func writeRecent(d *safefile.Folder, target string, writes []recentWrite, ref fs.FileInfo, lk *lockfile.Lock) error {
	name := filepath.Base(recentPath(target))
	if len(writes) == 0 {
		if err := d.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		return nil
	}
	data, err := json.Marshal(recentFile{Version: 1, Writes: writes})
	if err != nil {
		return err
	}
	f, tmp, err := d.CreateTemp(target)
	if err != nil {
		return fmt.Errorf("%w: creating a file in %s: %w", ErrUnsafe, printable(d.Path()), err)
	}
	fail := func(err error) error {
		f.Close()
		d.Remove(tmp)
		return fmt.Errorf("%w: writing %s: %w", ErrUnsafe, printable(recentPath(target)), err)
	}
	if ref != nil {
		if uid, gid, ok := safefile.Owner(ref); ok {
			if err := safefile.KeepOwner(f, uid, gid); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		d.Remove(tmp)
		return fmt.Errorf("%w: writing %s: %w", ErrUnsafe, printable(recentPath(target)), err)
	}
	if err := lk.Held(d); err != nil {
		d.Remove(tmp)
		return fmt.Errorf("%w: the lock on %s was lost, so %s was not written: %w", ErrUnsafe, printable(target), printable(recentPath(target)), err)
	}
	if err := d.Rename(tmp, name); err != nil {
		d.Remove(tmp)
		return fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	return nil
}
