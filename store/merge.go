package store

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// readReplaced reads the file f, found at path, as it is now; nil when it
// holds same, bytes already known. When it is empty or cut short,
// something that opened it earlier is writing it, and it is read again
// until it is whole, as Load does; left so for AbandonAfter, it holds
// nothing to keep.
func readReplaced(f *os.File, path string, opt *Options, same []byte) (*Sessions, error) {
	var (
		last             []byte
		slept, sleptSeen time.Duration
	)
	start := opt.now()
	seen := start
	delay := time.Millisecond
	for try := 0; ; try++ {
		data, _, err := readOpen(f, path)
		if err != nil {
			return nil, err
		}
		// An empty file is never taken for the one read: a save may have
		// just truncated it, and be about to write.
		if try == 0 && len(data) > 0 && bytes.Equal(data, same) {
			return nil, nil
		}
		s, perr := parseFile(data, path, opt.expiryNow(), nil)
		if !inProgress(data, perr) {
			return s, nil // what is invalid in it cannot be kept anyway
		}
		now := opt.now()
		if try == 0 || !bytes.Equal(data, last) {
			seen, sleptSeen, last = now, slept, data
		}
		if max(now.Sub(seen), slept-sleptSeen) >= AbandonAfter {
			return s, nil
		}
		if max(now.Sub(start), slept) >= MaxWait {
			return nil, fmt.Errorf("%w: %s was written, but a program that opened it before was still writing after %s, and what it saved may be lost; check with list", ErrBusy, printable(path), text.Duration(MaxWait))
		}
		opt.sleep(delay)
		slept += delay
		delay = min(2*delay, 20*time.Millisecond)
	}
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
