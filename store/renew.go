package store

import (
	"bytes"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// A renewal (login --renew-within) is one act across every process and
// host that shares the session file (docs/reliability.md, "One renewal at
// a time"). It has a lock of its own beside the file, auth.json.renew.lock
// (with auth.json.renew.lock.held and .break: the same flock plus
// exclusive-file scheme as the writer lock, so it works wherever that one
// does), held across the password command and the login's network call.
// The writer lock is taken only for the store that follows, so no writer
// ever waits on the network. Beside it, auth.json.renew.note remembers,
// per instance and email, the last renewal's outcome: who renewed and
// when (for those that joined it), or that the server refused the
// password (so that nobody sends it again for RefusalHold). It never
// holds a password or a token.

// RefusalHold is how long after the server refused a renewal's password
// the renewals of that session neither run the password command nor ask
// the server.
const RefusalHold = 15 * time.Minute

// Limits on the renewal note: a note larger, or with more entries, is
// refused as not this program's.
const (
	maxNoteSize    = 64 << 10
	maxNoteEntries = 64
)

func renewBase(target string) string { return target + ".renew" }

// renewNotePath is the path of the renewal note beside the session file
// target (already resolved).
func renewNotePath(target string) string { return renewBase(target) + ".note" }

// RenewalOutcome is what the renewal note says about one session's last
// renewal.
type RenewalOutcome struct {
	Refused bool      // the server refused the password; else it renewed the session
	At      time.Time // when
	Host    string    // by which host ("" when unknown)
	PID     int       // and process (0 when unknown)
}

// By says who, for a message: "process 123 on node7".
func (o RenewalOutcome) By() string {
	switch {
	case o.PID > 0 && o.Host != "":
		return fmt.Sprintf("process %d on %s", o.PID, printable(o.Host))
	case o.Host != "":
		return "a process on " + printable(o.Host)
	}
	return "another process"
}

// noteEntry is one line of the renewal note, as stored.
type noteEntry struct {
	State string `json:"state"` // "refused" or "renewed"
	URL   string `json:"url"`   // canonical instance URL
	Email string `json:"email"`
	At    string `json:"at"` // RFC 3339, UTC
	Host  string `json:"host"`
	PID   int    `json:"pid"`
}

type renewNote struct {
	Version int         `json:"version"`
	Entries []noteEntry `json:"entries"`
}

// parseRenewNote reads a renewal note strictly: one JSON object of version
// 1, no unknown field, at most maxNoteEntries entries, each with a known
// state, a canonical instance URL, an email of one printable line, a time,
// a host of printable characters and a pid that fits.
func parseRenewNote(data []byte) (renewNote, error) {
	var n renewNote
	if len(data) > maxNoteSize {
		return n, errors.New("larger than a renewal note can be")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return renewNote{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return renewNote{}, errors.New("something follows the note")
	}
	if n.Version != 1 {
		return renewNote{}, fmt.Errorf("version %d, not 1", n.Version)
	}
	if len(n.Entries) > maxNoteEntries {
		return renewNote{}, fmt.Errorf("%d entries, more than %d", len(n.Entries), maxNoteEntries)
	}
	for i, e := range n.Entries {
		if err := e.check(); err != nil {
			return renewNote{}, fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return n, nil
}

func (e noteEntry) check() error {
	switch {
	case e.State != "refused" && e.State != "renewed":
		return errors.New("unknown state")
	case e.Email == "" || len(e.Email) > 1024 || !printableLine(e.Email):
		return errors.New("bad email")
	case len(e.Host) > 255 || !printableLine(e.Host):
		return errors.New("bad host")
	case e.PID < 0 || e.PID > 1<<31-1:
		return errors.New("bad pid")
	}
	if c, err := CanonicalURL(e.URL); err != nil || c != e.URL {
		return errors.New("bad url")
	}
	if _, err := time.Parse(time.RFC3339Nano, e.At); err != nil {
		return errors.New("bad time")
	}
	return nil
}

func printableLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func (e noteEntry) outcome() RenewalOutcome {
	at, _ := time.Parse(time.RFC3339Nano, e.At)
	return RenewalOutcome{Refused: e.State == "refused", At: at, Host: e.Host, PID: e.PID}
}

// noteKey is the instance and email a note entry is about: the URL as
// cryosparc-tools' find() matches it.
func noteKey(url string) (string, error) {
	c, err := CanonicalURL(WithScheme(url))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadPath, err)
	}
	return c, nil
}

// readRenewNote reads the note beside target: an empty note when there is
// none. A note that is a link, not a regular file, not the file owner's,
// or not a note is refused.
func readRenewNote(target string, want lockfile.Owner) (renewNote, error) {
	path := renewNotePath(target)
	f, err := os.OpenFile(path, os.O_RDONLY|safefile.ONoFollow|safefile.ONonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return renewNote{Version: 1}, nil
	}
	if err != nil {
		return renewNote{}, want.RefuseOpen(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return renewNote{}, fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	if err := want.Check(path, fi); err != nil {
		return renewNote{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxNoteSize+1))
	if err != nil {
		return renewNote{}, fmt.Errorf("%w: reading %s: %w", ErrUnsafe, printable(path), err)
	}
	n, err := parseRenewNote(data)
	if err != nil {
		return renewNote{}, fmt.Errorf("%w: %s is not a renewal note this program wrote (%v); remove it (rm %s)", ErrUnsafe, printable(path), err, printable(path))
	}
	return n, nil
}

// LastRenewal returns what the renewal note beside the session file at
// path says about the last renewal of url's session of email, if it says
// anything. It takes no lock: the note is replaced atomically.
func LastRenewal(path, url, email string) (RenewalOutcome, bool, error) {
	target, err := resolve(path)
	if err != nil {
		return RenewalOutcome{}, false, err
	}
	key, err := noteKey(url)
	if err != nil {
		return RenewalOutcome{}, false, err
	}
	ref, _ := os.Stat(target)
	n, err := readRenewNote(target, lockfile.OwnerOf(filepath.Dir(target), ref))
	if err != nil {
		return RenewalOutcome{}, false, err
	}
	for _, e := range n.Entries {
		if e.URL == key && e.Email == email {
			return e.outcome(), true, nil
		}
	}
	return RenewalOutcome{}, false, nil
}

// Renewal is the renewal lock of a session file, held.
type Renewal struct {
	target string
	want   lockfile.Owner
	unlock func()
}

// LockRenewal takes the renewal lock of the session file at path, waiting
// at most wait for another renewal to end (zero or less: trying once). The
// lock is released by Unlock. The writer lock is not taken: Update and
// every other writer go on meanwhile.
func LockRenewal(path string, opt *Options, wait time.Duration) (*Renewal, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	ref, err := existing(target)
	if err != nil {
		return nil, err
	}
	if err := safefile.MkdirAll(filepath.Dir(target)); err != nil {
		return nil, err
	}
	o := opt.base() // its clock, for the lock's wait
	o.LockTimeout = wait
	if opt != nil {
		o.flock = opt.flock
	}
	base := renewBase(target)
	l, err := lock(base, &o, ref)
	if err != nil {
		return nil, err
	}
	removeStaleTemps(base)
	return &Renewal{target: target, want: lockfile.OwnerOf(filepath.Dir(target), ref), unlock: l.Unlock}, nil
}

// Unlock releases the renewal lock.
func (r *Renewal) Unlock() { r.unlock() }

// Last is LastRenewal, read under the lock.
func (r *Renewal) Last(url, email string) (RenewalOutcome, bool, error) {
	return LastRenewal(r.target, url, email)
}

// Record notes the outcome of the renewal of url's session of email, made
// at o.At, in place of what the note said about it; a nil outcome removes
// what it said. Entries older than RefusalHold (before o.At, else now)
// are dropped, and the note is removed when none is left.
func (r *Renewal) Record(url, email string, o *RenewalOutcome) error {
	key, err := noteKey(url)
	if err != nil {
		return err
	}
	n, err := readRenewNote(r.target, r.want)
	if err != nil {
		return err
	}
	now := time.Now()
	if o != nil {
		now = o.At // the caller's clock
	}
	var keep []noteEntry
	for _, e := range n.Entries {
		if (e.URL == key && e.Email == email) || now.Sub(e.outcome().At) > RefusalHold {
			continue
		}
		keep = append(keep, e)
	}
	if o != nil {
		state := "renewed"
		if o.Refused {
			state = "refused"
		}
		keep = append(keep, noteEntry{State: state, URL: key, Email: email, At: o.At.UTC().Format(time.RFC3339Nano), Host: o.Host, PID: o.PID})
	}
	sort.SliceStable(keep, func(i, j int) bool { return keep[i].At > keep[j].At })
	if len(keep) > maxNoteEntries {
		keep = keep[:maxNoteEntries]
	}
	path := renewNotePath(r.target)
	if len(keep) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: removing %s: %w", ErrUnsafe, printable(path), err)
		}
		return nil
	}
	data, err := json.Marshal(renewNote{Version: 1, Entries: keep})
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), tempPrefix(renewBase(r.target))+"note-"+crand.Text())
	f, err := lockfile.CreateExclusive(tmp, r.want)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: writing %s: %w", ErrUnsafe, printable(path), err)
	}
	return nil
}

// Outcome returns the outcome of a renewal made now by this process.
func Outcome(refused bool, at time.Time) *RenewalOutcome {
	host, pid := lockfile.Self()
	return &RenewalOutcome{Refused: refused, At: at, Host: host, PID: pid}
}

// ForgetRefusal removes what the renewal note beside the session file at
// path says about url's session of email, under the renewal lock (waiting
// at most opt's lock timeout): a login that succeeded ends the hold a
// refused password put on renewals. Without a note, nothing is done and no
// lock is taken.
func ForgetRefusal(path string, opt *Options, url, email string) error {
	if _, found, err := LastRenewal(path, url, email); err != nil || !found {
		return err
	}
	var wait time.Duration
	if opt != nil {
		wait = opt.LockTimeout
	}
	r, err := LockRenewal(path, opt, wait)
	if err != nil {
		return err
	}
	defer r.Unlock()
	return r.Record(url, email, nil)
}
