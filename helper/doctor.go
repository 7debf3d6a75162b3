package helper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// ErrUnhealthy is matched by the error Doctor returns when it found
// problems.
var ErrUnhealthy = errkind.New(errkind.File, "the session file has problems")

// DoctorQuery says whether doctor repairs what it finds.
type DoctorQuery struct {
	Fix bool // repair the file first (see store.Repair), keeping a backup
	// Force lets Fix replace a file that is not a session file, or not
	// JSON, with an empty one (the backup keeps the original). It goes
	// with Fix only.
	Force bool
}

// Doctor reports on the session file on IO.Out and returns an
// ErrUnhealthy error when it has problems. With q.Fix, it first repairs
// the file, and reports from what the repair read (and wrote): the file is
// read once.
func (f *Commands) Doctor(q DoctorQuery) error {
	if q.Force && !q.Fix {
		return bad("--force goes with --fix")
	}
	out := f.out()
	var fixed *store.Sessions
	if q.Fix {
		o := f.Options
		r, err := store.RepairRead(f.Path, &o, q.Force)
		backup := r.Backup
		if backup != "" {
			say(out, "Kept the original as %s.\n", text.Safe(backup))
		}
		if errors.Is(err, store.ErrNotRepaired) {
			return fmt.Errorf("%w; only `%s doctor --fix --force` replaces it (keeping a backup)", err, Name)
		}
		if err != nil {
			return err
		}
		if backup != "" {
			say(out, "Rewrote %s with its valid part.\n", text.Safe(f.Path))
		}
		fixed = r.Sessions
	}
	return f.doctor(out, fixed)
}

// doctor writes the report on out. fixed, when not nil, is what the file
// holds as a repair read or wrote it (a repair drops expired sessions, so
// it holds none); else the file is read here.
func (f *Commands) doctor(out io.Writer, fixed *store.Sessions) error {
	path := f.Path
	say(out, "Checking %s\n", text.Safe(path))
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		say(out, "  ok: there is no session file yet (it is created at the first login or store)\n")
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnsafe, err)
	}
	problems := 0
	report := func(format string, a ...any) {
		problems++
		say(out, "  problem: "+format+"\n", a...)
	}
	s, err := fixed, error(nil)
	if s == nil {
		o := f.Options
		o.KeepExpired = true
		s, err = store.Load(path, &o)
	}
	var inv *store.InvalidError
	rejected := errors.As(err, &inv)
	if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		if rejected {
			// One thing to run: the fix named at the end writes it 0600.
			report("permissions %#o let others read it (the fix below writes it 0600)", fi.Mode().Perm())
		} else {
			report("permissions %#o let others read it; run: chmod 600 %s", fi.Mode().Perm(), text.Safe(path))
		}
	}
	if di, err := os.Stat(filepath.Dir(path)); err == nil && di.Mode().Perm()&0o077 != 0 {
		say(out, "  note: its folder has permissions %#o; 0700 keeps others from listing it\n", di.Mode().Perm())
	}
	switch {
	case errors.As(err, &inv) && inv.Foreign():
		report("%v", err)
		say(out, "  This is not a session file: doctor --fix leaves it alone (`%s doctor --fix --force` would replace it, keeping a backup).\n", Name)
		return fmt.Errorf("%w: %s does not look like a session file; check --file and $CRYOSPARC_AUTH_FILE, or, if it is the session file, run `%s doctor --fix --force` to replace it (a backup is kept)", ErrUnhealthy, text.Safe(path), Name)
	case errors.As(err, &inv):
		for _, p := range inv.Problems {
			report("%s", p)
		}
		if inv.Syntax() {
			say(out, "  The file is not valid JSON: cryosparc-tools ignores all of it and will overwrite it at its next login; nothing in it can be kept.\n")
		} else {
			say(out, "  cryosparc-tools rejects the whole file while one entry is invalid (and will overwrite it at its next login).\n")
		}
	case err != nil:
		return err
	case fi.Size() == 0:
		say(out, "  ok: the file is empty, which cryosparc-tools reads as no sessions\n")
	default:
		say(out, "  ok: valid for cryosparc-tools\n")
	}
	now := f.now()
	live, expired := 0, 0
	for _, sess := range s.All() {
		if servableSession(sess) != nil {
			report("the session of %s for %s holds a line break or NUL, or is too long: get and token cannot serve it; log in again", text.Safe(sess.Email), text.URL(sess.URL))
		}
		if sess.Expires.Live(now) {
			live++
			continue
		}
		expired++
		say(out, "  note: the session of %s for %s expired %s (cryosparc-tools ignores it; --fix removes it)\n", text.Safe(sess.Email), text.URL(sess.URL), sess.Expires)
	}
	say(out, "  %d live session(s), %d expired\n", live, expired)
	if backups, err := store.Backups(path); err == nil && len(backups) > 0 {
		say(out, "  note: %d backup(s) beside it, the newest %s; remove them once they are not needed\n", len(backups), text.Safe(filepath.Base(backups[len(backups)-1])))
	}
	if problems > 0 {
		if inv != nil && inv.Syntax() {
			return fmt.Errorf("%w: %d problem(s) in %s; run `%s doctor --fix --force` to replace it with an empty session file, keeping a backup", ErrUnhealthy, problems, text.Safe(path), Name)
		}
		if rejected {
			return fmt.Errorf("%w: %d problem(s) in %s; run `%s doctor --fix` to keep a backup and write back the valid part", ErrUnhealthy, problems, text.Safe(path), Name)
		}
		return fmt.Errorf("%w: %d problem(s) in %s; each says what to do", ErrUnhealthy, problems, text.Safe(path))
	}
	return nil
}
