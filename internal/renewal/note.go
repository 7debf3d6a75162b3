package renewal

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
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// Limits on the renewal note: a note larger, or with more entries, is
// refused as not this program's.
const (
	maxNoteSize    = 64 << 10
	maxNoteEntries = 64
)

// notePath is the path of the renewal note beside the session file
// target (already resolved).
func notePath(target string) string { return renewBase(target) + ".note" }

// Outcome is what the renewal note says about one session's last
// renewal.
type Outcome struct {
	Refused bool      // the server refused the password; else it renewed the session
	At      time.Time // when
	Host    string    // by which host ("" when unknown)
	PID     int       // and process (0 when unknown)
}

// ByThisProcess returns the outcome of a renewal made at at by this
// process.
func ByThisProcess(refused bool, at time.Time) *Outcome {
	host, pid := lockfile.Self()
	return &Outcome{Refused: refused, At: at, Host: host, PID: pid}
}

// By says who, for a message: "process 123 on node7".
func (o Outcome) By() string {
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

type note struct {
	Version int         `json:"version"`
	Entries []noteEntry `json:"entries"`
}

// parseNote reads a renewal note strictly: one JSON object of version 1,
// no unknown field, at most maxNoteEntries entries, each with a known
// state, a canonical instance URL, an email of one printable line, a time,
// a host of printable characters and a pid that fits.
func parseNote(data []byte) (note, error) {
	var n note
	if len(data) > maxNoteSize {
		return n, errors.New("larger than a renewal note can be")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return note{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return note{}, errors.New("something follows the note")
	}
	if n.Version != 1 {
		return note{}, fmt.Errorf("version %d, not 1", n.Version)
	}
	if len(n.Entries) > maxNoteEntries {
		return note{}, fmt.Errorf("%d entries, more than %d", len(n.Entries), maxNoteEntries)
	}
	for i, e := range n.Entries {
		if err := e.check(); err != nil {
			return note{}, fmt.Errorf("entry %d: %w", i+1, err)
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
	if c, err := urlrule.Canonical(e.URL); err != nil || c != e.URL {
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

func (e noteEntry) outcome() Outcome {
	at, _ := time.Parse(time.RFC3339Nano, e.At)
	return Outcome{Refused: e.State == "refused", At: at, Host: e.Host, PID: e.PID}
}

// noteKey is the instance and email a note entry is about: the URL as
// cryosparc-tools' find() matches it.
func noteKey(url string) (string, error) {
	c, err := urlrule.Canonical(urlrule.WithScheme(url))
	if err != nil {
		return "", fmt.Errorf("%w: %w", safefile.ErrBadPath, err)
	}
	return c, nil
}

// readNote reads the note beside target, in target's folder d: an empty
// note when there is none. A note that is a link, not a regular file, not
// the file owner's, or not a note is refused.
func readNote(d *safefile.Folder, target string, want lockfile.Owner) (note, error) {
	path := notePath(target)
	f, err := d.OpenFile(filepath.Base(path), os.O_RDONLY|safefile.ONonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return note{Version: 1}, nil
	}
	if err != nil {
		return note{}, want.RefuseOpen(d, path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return note{}, fmt.Errorf("%w: %w", safefile.ErrUnsafe, err)
	}
	if err := want.Check(path, fi); err != nil {
		return note{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxNoteSize+1))
	if err != nil {
		return note{}, fmt.Errorf("%w: reading %s: %w", safefile.ErrUnsafe, printable(path), err)
	}
	n, err := parseNote(data)
	if err != nil {
		return note{}, fmt.Errorf("%w: %s is not a renewal note this program wrote (%v); remove it (rm %s)", safefile.ErrUnsafe, printable(path), err, printable(path))
	}
	return n, nil
}

// Record notes the outcome of the renewal of url's session of email, made
// at o.At, in place of what the note said about it; a nil outcome removes
// what it said. Entries older than RefusalHold (before o.At, else now by
// the lock's clock) are dropped, and the note is removed when none is
// left.
func (r *Lock) Record(url, email string, o *Outcome) error {
	key, err := noteKey(url)
	if err != nil {
		return err
	}
	n, err := readNote(r.dir, r.target, r.want)
	if err != nil {
		return err
	}
	var now time.Time
	if o != nil {
		now = o.At // the caller's clock
	} else {
		now = r.now()
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
	// Every file is created, renamed and removed in the lock's folder,
	// whatever its path leads to now.
	path := notePath(r.target)
	name := filepath.Base(path)
	if len(keep) == 0 {
		if err := r.dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: removing %s: %w", safefile.ErrUnsafe, printable(path), lockfile.Named(err, path))
		}
		return nil
	}
	data, err := json.Marshal(note{Version: 1, Entries: keep})
	if err != nil {
		return err
	}
	tmpName := safefile.TempPrefix(renewBase(r.target)) + "note-" + crand.Text()
	tmp := filepath.Join(filepath.Dir(path), tmpName)
	f, err := lockfile.CreateExclusive(r.dir, tmp, r.want)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = r.dir.Rename(tmpName, name); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = &os.LinkError{Op: "rename", Old: tmp, New: path, Err: pe.Err} // as os.Rename says it
			}
		}
	}
	if err != nil {
		r.dir.Remove(tmpName)
		return fmt.Errorf("%w: writing %s: %w", safefile.ErrUnsafe, printable(path), err)
	}
	return nil
}

// printable makes a path or value safe to show in a message.
func printable(s string) string { return text.Safe(s) }
