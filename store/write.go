package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/authjson"
	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

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
	if fi.Mode().Perm()&0o200 == 0 && !safefile.IsWindows() {
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
// save that cryosparc-tools, which takes no lock, makes into the file
// while it is being replaced is merged back (see merge). A file that
// cryosparc-tools would reject is never rewritten: Update returns its
// *InvalidError and leaves it as it is; when the file does not look like
// a session file at all, nothing is created beside it either (no lock
// file). If change reports nothing to write (ErrNoChange), the file is
// left untouched.
func Update(path string, opt *Options, change func(*Sessions) error) error {
	target, lk, err := lockTarget(path, opt)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	d, err := safefile.OpenFolder(filepath.Dir(target), false)
	if err != nil {
		return err
	}
	defer d.Close()
	// The file read is kept open, to see after the rename what was written
	// into it meanwhile, and its bytes, size and times, to tell quickly that
	// nothing was.
	old, err := d.Open(filepath.Base(target))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	closeOld := func() {
		if old != nil {
			old.Close()
		}
	}
	first := copyFile
	if old != nil {
		first = readThrough(old)
	}
	v, err := readVersion(target, opt, first, nil, nil)
	if err == nil {
		err = v.perr
	}
	if err == nil {
		_, err = existing(target)
	}
	if err != nil {
		closeOld()
		return err
	}
	s, before := v.s, known{}
	if old != nil {
		// Its size and times tell of changes only if the version read is
		// the file held open (a retry reads by path).
		ofi, err := old.Stat()
		same := err == nil && v.fi != nil && os.SameFile(ofi, v.fi)
		before = known{data: v.data, at: v.at, settled: v.settled && same}
	}
	if s == nil {
		s = &Sessions{}
	}
	now := opt.now()
	recent, hadRecent, err := readRecent(target, opt)
	if err != nil {
		closeOld()
		return err
	}
	if old == nil {
		// No session file: removed on purpose, or never made. Nothing is
		// restored into a new one, and the record starts anew.
		recent = nil
	}
	// A write of this program's that a save by cryosparc-tools dropped
	// since is put back first (see recent.go).
	restored := restoreDropped(s, recent, now)
	base := s.clone()
	if err := change(s); err != nil && !(errors.Is(err, ErrNoChange) && restored) {
		closeOld()
		if errors.Is(err, ErrNoChange) {
			return nil
		}
		return err
	}
	made := changes(base, s, now)
	guard := noted(recent, made)
	stale := func(url string, t Session) bool {
		sum := tokenSum(t.Token)
		for i := range guard {
			w := &guard[i]
			if w.URL == url && w.Email == t.Email && (w.Erased || t.Token != w.Token) && slices.Contains(w.Replaced, sum) {
				return true
			}
		}
		return false
	}
	final, err := replaceGuarded(d, target, opt, lk, old, base, before, s, stale)
	if err != nil {
		return err
	}
	// What other programs saved and this write merged is noted too: a
	// stale save may drop it as it would drop this program's own.
	made = append(made, changes(s, final, now)...)
	if len(made) > 0 || hadRecent {
		fi, _ := os.Stat(target)
		if err := writeRecent(d, target, noted(recent, made), fi, lk); err != nil {
			// The write itself is done: only its guard against a racing
			// save is missing.
			opt.warn("%v; a save by cryosparc-tools racing this write could drop it unnoticed", err)
		}
	}
	return nil
}

// readOpen reads the open file f, found at path, from its start.
func readOpen(f *os.File, path string) ([]byte, fs.FileInfo, error) {
	fi, err := f.Stat()
	if err == nil {
		if err = checkRegular(path, fi); err != nil {
			return nil, nil, err
		}
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			var data []byte
			if data, err = readAll(f, fi.Size(), nil); err == nil {
				return data, fi, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
}

// Save replaces the file at path with s, under the lock, atomically, as
// cryosparc-tools' save() would write it. Whatever the file held is lost,
// including changes other processes made since s was loaded: to change the
// file, use Update. Like Update, Save refuses to overwrite a file that
// cryosparc-tools would reject.
func Save(path string, opt *Options, s *Sessions) error {
	return Update(path, opt, func(current *Sessions) error {
		*current = *s.clone()
		return nil
	})
}

// ErrNoChange is what an Update's change function returns to leave the file
// untouched.
var ErrNoChange = errors.New("nothing to change")

// removeStaleTemps removes what writers that died left beside target: the
// names only (a link is removed, never what it points to).
func removeStaleTemps(target string) { safefile.RemoveStaleTemps(target) }

// maxRounds bounds how many times replace writes the file again to merge
// what other programs saved meanwhile.
const maxRounds = 10

// recheckAfter is how long replace waits, after a write that merged a
// save by another program, before it looks at what it wrote once more;
// maxRechecks bounds how many times it does, for a program that saves
// without pause.
const (
	recheckAfter = 20 * time.Millisecond
	maxRechecks  = 3
)

// replace writes next over target, in the folder d, then makes sure that
// no save by another program was lost meanwhile, under the lock lk (nothing
// is renamed once it is lost: see writeLock.Held). old is the file being
// replaced, open (nil when there was none); base is what was read from it
// before next was made from it, and baseData its bytes, when known.
// replaceGuarded takes what is known of them (see known): with settled
// times, old is read again only if its size or times changed.
//
// A program that opened old before the rename, to truncate and write it
// as cryosparc-tools does without a lock, can only have written there. So
// after the rename old is read again (waiting out a write still in
// progress, as Load does): if it changed, what it holds beyond base is
// merged into next (see merge), which is written again, until a round
// finds nothing to merge. A file created meanwhile where there was none is
// found the same way: the new file is never renamed over it. When another
// program was found saving, the file just written is looked at once more
// after recheckAfter (at most maxRechecks times): a save that loaded
// before the rename and truncated after it replaced what was merged, and
// is merged in turn.
//
// It returns next with every save merged into it: what the file holds,
// unless another program saved over it since, which the record of recent
// writes then repairs. After maxRounds writes that each found another save
// to merge, it stops writing and returns what it would have written next:
// the record holds what was not written, for the next command to restore.
func replace(d *safefile.Folder, target string, opt *Options, lk *lockfile.Lock, old *os.File, base *Sessions, baseData []byte, next *Sessions) (*Sessions, error) {
	return replaceGuarded(d, target, opt, lk, old, base, known{data: baseData}, next, nil)
}

func replaceGuarded(d *safefile.Folder, target string, opt *Options, lk *lockfile.Lock, old *os.File, base *Sessions, baseData known, next *Sessions, stale func(string, Session) bool) (*Sessions, error) {
	name := filepath.Base(target)
	merging, rechecks := false, 0
	for round := 0; ; round++ {
		var err error
		if round > 0 {
			if old, err = d.Open(name); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
			}
		}
		if round > maxRounds {
			if old != nil {
				old.Close()
			}
			opt.warn("other programs kept saving into %s while it was replaced (%d times): what they saved last is restored by the next command", printable(target), maxRounds)
			return next, nil
		}
		err = writeFile(d, target, opt, next, old, lk, &baseData)
		if errors.Is(err, fs.ErrExist) && old == nil || errors.Is(err, errReplaced) {
			// Created by another program since it was found missing, or
			// replaced since it was read: nothing was written, and that
			// file is now the one to replace, with what it holds.
			if old != nil {
				old.Close()
			}
			f, err := d.Open(name)
			if err != nil || f == nil {
				return nil, fmt.Errorf("%w: %s appeared and vanished while being written: %w", ErrUnsafe, printable(target), err)
			}
			theirs, err := readReplaced(f, target, opt, known{})
			f.Close()
			if err != nil {
				return nil, err
			}
			next, _ = mergeGuarded(base, next, theirs, stale)
			base, baseData = theirs, known{}
			continue
		}
		if old != nil {
			if err == nil {
				var theirs *Sessions
				if theirs, err = readReplaced(old, target, opt, baseData); err == nil {
					if merged, changed := mergeGuarded(base, next, theirs, stale); changed {
						old.Close()
						base, baseData, next, merging = next, known{data: next.Marshal()}, merged, true
						continue
					}
				}
			}
			old.Close()
		}
		if err != nil {
			return nil, err
		}
		if !merging || rechecks == maxRechecks {
			return next, nil
		}
		// Another program is saving now: look at what was written once
		// more, after a pause.
		rechecks++
		opt.sleep(recheckAfter)
		f, err := d.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsafe, err)
		}
		if f == nil {
			return next, nil
		}
		theirs, err := readReplaced(f, target, opt, known{data: next.Marshal()})
		f.Close()
		if err != nil {
			return nil, err
		}
		if theirs == nil {
			return next, nil
		}
		// Overwritten by a program that saved what it had loaded before:
		// what it lacks is written back, with what it added.
		next, _ = mergeGuarded(next, next, theirs, stale)
		base, baseData = theirs, known{}
	}
}

// errReplaced: the file to replace is no longer the one read.
var errReplaced = errors.New("replaced since it was read")

// writeFile replaces target, in the folder d, with next: a new 0600 file
// in the same folder, written in pieces (writeSessions), flushed to disk,
// renamed over target, and the folder flushed; never when it is larger
// than opt's size limit. The new file gets the owner and group of old, the
// file it replaces; a new file created by root gets those of the folder.
// When they cannot be kept, nothing is replaced. With no old file, the new
// one is never renamed over a file created meanwhile: writeFile then
// fails with fs.ErrExist. Nor is it renamed when the lock lk, checked
// right before, is no longer this writer's: another writer may have taken
// it over. A folder that cannot be flushed after the rename is
// an error too: the new file is in place, but may not survive a crash.
// Right before the rename, old is looked at once more (same.lookBefore).
func writeFile(d *safefile.Folder, target string, opt *Options, next *Sessions, old *os.File, lk *lockfile.Lock, same *known) error {
	f, tmp, err := d.CreateTemp(target)
	if err != nil {
		return fmt.Errorf("%w: creating a file in %s: %w", ErrUnsafe, printable(d.Path()), err)
	}
	fail := func(what string, err error) error {
		f.Close()
		d.Remove(tmp)
		return fmt.Errorf("%w: %s %s: %w", ErrUnsafe, what, printable(f.Name()), err)
	}
	if err := f.Chmod(0o600); err != nil && !safefile.IsWindows() {
		return fail("setting permissions of", err)
	}
	uid, gid, ok := 0, 0, false
	if old != nil {
		fi, err := old.Stat()
		if err != nil {
			return fail("checking the owner of", err)
		}
		uid, gid, ok = safefile.Owner(fi)
	} else if os.Geteuid() == 0 {
		uid, gid, ok = d.Owner()
	}
	if ok {
		if err := safefile.KeepOwner(f, uid, gid); err != nil {
			f.Close()
			d.Remove(tmp)
			return fmt.Errorf("%w: %s belongs to another user or group, which a replacement written by this user would not keep (%w); run as its owner", ErrUnsafe, printable(target), err)
		}
	}
	n, err := writeSessions(f, next)
	if err != nil {
		return fail("writing", err)
	}
	if limit := opt.maxFileSize(); n > limit {
		f.Close()
		d.Remove(tmp)
		most := fmt.Sprintf("%d bytes", limit)
		if limit%(1<<20) == 0 {
			most = fmt.Sprintf("%d MiB", limit>>20)
		}
		return fmt.Errorf("%w: %s would become %d bytes, more than the %s a session file may have, which no command could read; nothing was written", ErrUnsafe, printable(target), n, most)
	}
	if err := f.Sync(); err != nil {
		return fail("flushing", err)
	}
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := lk.Held(d); err != nil {
		d.Remove(tmp)
		return fmt.Errorf("%w: the lock on %s was lost while it was being written (%w); the new version was not put in place, try again", ErrUnsafe, printable(target), err)
	}
	name := filepath.Base(target)
	if old != nil && !d.Holds(name, old) {
		// Replaced since it was read: by a writer that took the lock over
		// (this one stalled for longer than LockStaleAfter) or by a
		// program that takes none. Its content is merged, not lost.
		d.Remove(tmp)
		return errReplaced
	}
	if old != nil {
		same.lookBefore(old, opt)
		err = d.Rename(tmp, name)
	} else {
		err = d.RenameNew(tmp, name)
	}
	if err != nil {
		d.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("%w: replacing %s: %w", ErrUnsafe, printable(target), err)
	}
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%w: %s was replaced, but its folder could not be flushed to disk, so the change may not survive a crash: %w", ErrUnsafe, printable(target), err)
	}
	return nil
}

// writeSessions writes s to f as Marshal makes it, in pieces of 64 KiB
// (the whole is never in memory), and returns its size.
func writeSessions(f io.Writer, s *Sessions) (int, error) {
	list := make([]authjson.Instance, len(s.instances))
	for i, in := range s.instances {
		list[i] = authjson.Instance{URL: in.url, Sessions: in.sessions}
	}
	return authjson.Write(f, list, 64<<10)
}
