// Package renewal is the renewal lock of a session file and its note.
//
// A renewal (login --renew-within) is one act across every process and
// host that shares the session file (docs/reliability.md, "One renewal at
// a time"). It has a lock of its own beside the file, auth.json.renew.lock
// (with auth.json.renew.lock.held and .break: the same flock plus
// exclusive-file scheme as the writer lock, internal/lockfile, so it works
// wherever that one does), held across the password command and the
// login's network call. The writer lock is taken only for the store that
// follows, so no writer ever waits on the network. Beside it,
// auth.json.renew.note remembers, per instance and email, the last
// renewal's outcome: who renewed and when (for those that joined it), or
// that the server refused the password (so that nobody sends it again for
// RefusalHold). It never holds a password or a token.
//
// It knows nothing of sessions: the session file's own check comes in
// through Options.Check (store.Existing).
package renewal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// RefusalHold is how long after the server refused a renewal's password
// the renewals of that session neither run the password command nor ask
// the server.
const RefusalHold = 15 * time.Minute

// Options tune Take and ForgetRefusal.
type Options struct {
	// Wait is how long Take waits for another renewal to end; zero or
	// less tries once.
	Wait time.Duration
	// Check is the session file's own check, store.Existing: given the
	// resolved path, it returns the file (nil when there is none yet) or
	// refuses one that may not be written. Take needs it: no lock is
	// created beside a file it refuses.
	Check func(target string) (fs.FileInfo, error)
	// Now is this machine's clock: of the lock's wait, and of the note's
	// age when Record is given no outcome. nil is time.Now.
	Now func() time.Time
	// Flock, when set, replaces flock(2) on the lock file: tests make it
	// fail as the file systems that refuse it do.
	Flock func(*os.File) error
}

// errNoCheck is returned by Take when Options.Check is missing: a
// mistake of the caller, never of the user.
var errNoCheck = errors.New("renewal: Options.Check is not set")

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func renewBase(target string) string { return target + ".renew" }

// Lock is the renewal lock of a session file, held.
type Lock struct {
	target string
	dir    *safefile.Folder // target's folder, open: the lock files and the note are in it
	want   lockfile.Owner
	now    func() time.Time
	unlock func()
}

// Take takes the renewal lock of the session file at path, waiting at
// most opt.Wait for another renewal to end (zero or less: trying once).
// The lock is released by Unlock. The writer lock is not taken: Update
// and every other writer go on meanwhile.
func Take(path string, opt Options) (*Lock, error) {
	if opt.Check == nil {
		return nil, errNoCheck
	}
	target, err := safefile.Resolve(path)
	if err != nil {
		return nil, err
	}
	ref, err := opt.Check(target)
	if err != nil {
		return nil, err
	}
	if err := safefile.MkdirAll(filepath.Dir(target)); err != nil {
		return nil, err
	}
	// The folder is opened once: the lock files and the note are created
	// in it, whatever becomes of its path meanwhile.
	d, err := safefile.OpenFolder(filepath.Dir(target), false)
	if err != nil {
		return nil, err
	}
	base := renewBase(target)
	l, err := lockfile.Take(base, lockfile.Options{Timeout: opt.Wait, Flock: opt.Flock, Now: opt.now, Folder: d}, ref)
	if err != nil {
		d.Close()
		return nil, err
	}
	safefile.RemoveStaleTemps(base)
	return &Lock{target: target, dir: d, want: lockfile.OwnerIn(d, ref), now: opt.now, unlock: l.Unlock}, nil
}

// Unlock releases the renewal lock.
func (r *Lock) Unlock() {
	r.unlock()
	r.dir.Close()
}

// Last is the package's Last, read under the lock, in the lock's folder.
func (r *Lock) Last(url, email string) (Outcome, bool, error) {
	key, err := noteKey(url)
	if err != nil {
		return Outcome{}, false, err
	}
	ref, _ := os.Stat(r.target) // no file (nil): the owner rule takes the folder's
	n, err := readNote(r.dir, r.target, lockfile.OwnerIn(r.dir, ref))
	if err != nil {
		return Outcome{}, false, err
	}
	return n.find(key, email)
}

// Last returns what the renewal note beside the session file at path says
// about the last renewal of url's session of email, if it says anything.
// It takes no lock: the note is replaced atomically.
func Last(path, url, email string) (Outcome, bool, error) {
	target, err := safefile.Resolve(path)
	if err != nil {
		return Outcome{}, false, err
	}
	key, err := noteKey(url)
	if err != nil {
		return Outcome{}, false, err
	}
	ref, _ := os.Stat(target) // no file (nil): the owner rule takes the folder's
	d, err := safefile.OpenFolder(filepath.Dir(target), false)
	if errors.Is(err, fs.ErrNotExist) {
		return Outcome{}, false, nil // no folder, no note
	}
	if err != nil {
		return Outcome{}, false, err
	}
	defer d.Close()
	n, err := readNote(d, target, lockfile.OwnerIn(d, ref))
	if err != nil {
		return Outcome{}, false, err
	}
	return n.find(key, email)
}

// find returns what the note says about key's session of email.
func (n note) find(key, email string) (Outcome, bool, error) {
	for _, e := range n.Entries {
		if e.URL == key && e.Email == email {
			return e.outcome(), true, nil
		}
	}
	return Outcome{}, false, nil
}

// ForgetRefusal removes what the renewal note beside the session file at
// path says about url's session of email, under the renewal lock (waiting
// at most opt.Wait): a login that succeeded ends the hold a refused
// password put on renewals. Without a note, nothing is done and no lock
// is taken.
func ForgetRefusal(path string, opt Options, url, email string) error {
	if _, found, err := Last(path, url, email); err != nil || !found {
		return err
	}
	r, err := Take(path, opt)
	if err != nil {
		return err
	}
	defer r.Unlock()
	return r.Record(url, email, nil)
}
