package store

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"syscall"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// known is what was read of a file before: its bytes, and the size and
// times it had then (at), with whether they were settled then: older than
// the file's timestamp window, so that any change made since moves its
// change time (where ctimeMoves) and any write its modification time.
type known struct {
	data    []byte
	at      fileVersion
	settled bool
	// kept: the file was still as read right before the rename that
	// replaced it (see lookBefore).
	kept bool
}

// lookBefore looks at f right before the rename that replaces it, and notes
// whether it is still as read: with settled times, a change since the read
// shows in its change time. An empty file may have just been truncated, its
// times not yet updated: it is always read.
func (k *known) lookBefore(f *os.File, opt *Options) {
	k.kept = false
	if !k.settled || !ctimeMoves || len(k.data) == 0 || k.at.size != int64(len(k.data)) {
		return
	}
	fi, err := f.Stat()
	k.kept = err == nil && versionOf(fi, opt) == k.at
}

// untouched reports whether f, replaced by a rename of target, still holds
// k's bytes, from its size and times alone: it was kept up to the rename,
// and its size, modification time and mode are still those read. The rename
// itself moves its change time (to the one it gave the file renamed in, now
// at target); so a save that truncates or writes into it after the rename
// shows in its size (at once: ext4 shows the size before the times) or its
// modification time. Only a program that writes and then sets the
// modification time back to the one read escapes, and only at the rename:
// within its clock tick, or between lookBefore and it.
func (k known) untouched(f *os.File, target string, opt *Options) bool {
	if fault := opt.faults(); fault != nil && fault("look") != nil {
		return false
	}
	if !k.kept {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	now := versionOf(fi, opt)
	if now.size != k.at.size || now.mtime != k.at.mtime || now.mode != k.at.mode {
		return false
	}
	if now.ctime == k.at.ctime {
		return true // not moved by the rename, nor by anything else
	}
	in, err := os.Lstat(target)
	return err == nil && versionOf(in, opt).ctime == now.ctime
}

// readReplaced reads the file f, found at path, as it is now; nil when it
// holds same's bytes: known at once when f is untouched since (see
// known.untouched), else read and compared. A test's fault injector sees
// the look after the rename as "look" and each read of the bytes as
// "reread". When it is empty or cut short,
// something that opened it earlier is writing it, and it is read again
// until it is whole, as Load does (waitWhole); left so for AbandonAfter, it
// holds nothing to keep.
func readReplaced(f *os.File, path string, opt *Options, same known) (*Sessions, error) {
	v, err := waitWhole(opt, func(try int) look {
		if try == 0 && same.untouched(f, path, opt) {
			return look{done: true}
		}
		data, fi, err := rereadOpen(f, path, opt)
		switch {
		case stale(err):
			return look{why: err} // read again, as every read is
		case err != nil:
			return look{done: true, err: err}
		}
		// An empty file is never taken for the one read: a save may have
		// just truncated it, and be about to write.
		if try == 0 && len(data) > 0 && bytes.Equal(data, same.data) {
			return look{done: true}
		}
		s, perr := parseFile(data, path, opt.expiryNow(), nil)
		if !inProgress(data, perr) {
			return look{done: true, v: versionRead{s: s}} // what is invalid in it cannot be kept anyway
		}
		return look{v: versionRead{s: s}, why: errTorn, seen: observation{versionOf(fi, opt), maphash.Bytes(observeSeed(), data)}}
	}, func(why error) error {
		if stale(why) {
			return fmt.Errorf("%w: %s was written, but the file it replaced could not be read again, to keep what a program that opened it before saved into it (%w for %s); check with list", ErrUnsafe, printable(path), syscall.ESTALE, text.Duration(MaxWait))
		}
		return fmt.Errorf("%w: %s was written, but a program that opened it before was still writing after %s, and what it saved may be lost; check with list", ErrBusy, printable(path), text.Duration(MaxWait))
	})
	return v.s, err
}

// rereadOpen is readOpen of the file replaced, with the test's fault
// injector.
func rereadOpen(f *os.File, path string, opt *Options) ([]byte, fs.FileInfo, error) {
	if fault := opt.faults(); fault != nil {
		if err := fault("reread"); err != nil {
			return nil, nil, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
		}
	}
	return readOpen(f, path)
}

// merge returns next with what another program saved, theirs, beyond
// base, what was read before next was made from it; changed is false when
// there is nothing to add. A session in theirs is the other program's
// when base has none for its instance and email, or has one that expires
// earlier (a new login); otherwise it is what was read, or an older copy
// of it, and is left out, so that a session next erased stays erased and
// a session next replaced keeps its new value. Each session of the other
// program's goes into next by cryosparc-tools' insert rules (replacing
// the same instance and email in place, else added at the end), unless
// next holds one for them that expires as late or later. So a login by
// cryosparc-tools that comes while the file is replaced is kept even if
// the change erased the same email: as if the login had come after it.
// What theirs lacks is never erased from next: a program that saved what
// it loaded before next was written did not mean to erase what it never
// saw.
func merge(base, next, theirs *Sessions) (merged *Sessions, changed bool) {
	return mergeGuarded(base, next, theirs, nil)
}

func mergeGuarded(base, next, theirs *Sessions, stale func(url string, t Session) bool) (merged *Sessions, changed bool) {
	if theirs == nil {
		return next, false
	}
	merged = next
	for _, in := range theirs.instances {
		for _, t := range in.sessions {
			if stale != nil && stale(in.url, t) {
				continue
			}
			if b, ok := base.lookup(in.url, t.Email); ok && t.Expires.UnixMicro() <= b.Expires.UnixMicro() {
				continue
			}
			if n, ok := merged.lookup(in.url, t.Email); ok && t.Expires.UnixMicro() <= n.Expires.UnixMicro() {
				continue
			}
			if !changed {
				merged, changed = next.clone(), true
			}
			merged.put(in.url, t)
		}
	}
	return merged, changed
}

// lookup returns the session for email in the instance url names.
func (s *Sessions) lookup(url, email string) (Session, bool) {
	idx := s.match(url)
	if len(idx) == 0 {
		return Session{}, false
	}
	in := &s.instances[idx[0]]
	for _, sess := range in.sessions {
		if sess.Email == email {
			return sess, true
		}
	}
	return Session{}, false
}

// clone returns a copy of s that shares nothing that changes.
func (s *Sessions) clone() *Sessions {
	out := &Sessions{instances: make([]instance, len(s.instances))}
	for i, in := range s.instances {
		out.instances[i] = instance{url: in.url, sessions: append([]Session(nil), in.sessions...)}
	}
	return out
}
