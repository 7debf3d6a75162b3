package helper

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/renewal"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// RenewQuery is an unattended renewal (login --renew-within): the login of
// LoginQuery (its Password unused: Password gives it), made only when the
// session is due.
type RenewQuery struct {
	LoginQuery
	// Within: the session is due when it is valid for this long or less
	// (or missing).
	Within time.Duration
	// Force sends the password even though the server refused it in the
	// last renewal.RefusalHold.
	Force bool
	// Quiet prints nothing when nothing is due or the renewal succeeded.
	Quiet bool
	// AskEmail gives the email when neither the query nor a stored session
	// names one.
	AskEmail func() (string, error)
	// Password gives the password; it is called only when a login is to be
	// sent, under the renewal lock.
	Password func() (string, error)
}

// Renew renews the session q names when it is due, as one act across
// every process and host sharing the session file: it takes the file's
// renewal lock (renewal.Take: not the writer lock, so that no writer
// waits on the network), looks again, and logs in only when the session
// is still due. A renewal that waited for another one finds the session
// renewed and ends with nil, naming the renewal it joined. When the server
// refuses the password, the refusal is noted beside the file, and for
// renewal.RefusalHold renewals of the session neither ask for the password
// nor send it (unless q.Force): they fail at once (errkind.Login). What
// it did is said on IO.Out.
func (f *Commands) Renew(q RenewQuery) error {
	out := f.out()
	if q.Quiet {
		out = io.Discard
	}
	sess, found, err := f.lookup(q.URL, q.Email)
	if err != nil {
		return err
	}
	if found {
		q.Email = sess.Email
		if f.valid(out, sess, q.Within, nil) {
			return nil
		}
	}
	if err := f.renewsOnce(q); err != nil {
		return err
	}
	if q.Email == "" {
		if q.Email, err = q.AskEmail(); err != nil {
			return err
		}
	}
	if !q.Force {
		if err := f.refusedLately(q.URL, q.Email, nil); err != nil {
			return err
		}
	}
	wait := 24 * time.Hour // --timeout 0: no limit
	if q.Timeout > 0 {
		// The renewal in progress runs the password command and logs in,
		// each within q.Timeout, then stores the session.
		wait = f.Options.LockTimeout + 2*q.Timeout
	}
	r, err := renewal.Take(f.Path, renewal.Options{Wait: wait, Check: store.Existing})
	if err != nil {
		if errors.Is(err, store.ErrLockTimeout) {
			return fmt.Errorf("another renewal of the sessions in %s is still running: %w", text.Safe(f.Path), err)
		}
		return err
	}
	defer r.Unlock()
	// Look again: another renewal may have ended while this one waited.
	if sess, found, err = f.lookup(q.URL, q.Email); err != nil {
		return err
	}
	if found && f.valid(out, sess, q.Within, r) {
		return nil
	}
	if !q.Force {
		if err := f.refusedLately(q.URL, q.Email, r); err != nil {
			return err
		}
	}
	if q.LoginQuery.Password, err = q.Password(); err != nil {
		return err
	}
	err = f.login(out, q.LoginQuery)
	switch {
	case err == nil:
		if rerr := r.Record(q.URL, q.Email, renewal.ByThisProcess(false, f.now())); rerr != nil {
			f.warnf("renewed, but the renewal note could not be written: %v", rerr)
		}
		return nil
	case errors.Is(err, errkind.Login):
		at := f.now()
		if rerr := r.Record(q.URL, q.Email, renewal.ByThisProcess(true, at)); rerr != nil {
			f.warnf("the refusal could not be noted for other renewals: %v", rerr)
			return err
		}
		return fmt.Errorf("%w; renewals of this session will not send the password again until %s: fix it, then log in (`%s`) or renew with --force",
			err, at.Add(renewal.RefusalHold).Local().Format("15:04:05"), loginCommand(q.URL, q.Email))
	}
	return err
}

// renewsOnce refuses (errkind.BadInput) a renewal whose new session would
// itself be due at once: one that lasts no longer than q.Within. Every
// run of such a renewal would log in, from every node that runs it, so it
// fails before the password is asked for or sent.
func (f *Commands) renewsOnce(q RenewQuery) error {
	lifetime, from := DefaultLifetime, "the default lifetime; --expires sets another"
	if !q.Until.IsZero() {
		lifetime, from = q.Until.Sub(f.now()), "until --expires"
	}
	if q.Within < lifetime {
		return nil
	}
	return bad("--renew-within %s is not shorter than the session a renewal would store (%s, %s): every renewal would log in again; give a shorter --renew-within",
		text.Duration(q.Within), text.Duration(max(lifetime, 0)), from)
}

// valid reports whether sess is valid for longer than within: then there
// is nothing to renew, which it says on out. With r (the renewal lock,
// taken after the session was seen due), it names the renewal that
// renewed it meanwhile.
func (f *Commands) valid(out io.Writer, sess store.Session, within time.Duration, r *renewal.Lock) bool {
	now := f.now()
	if sess.Expires.Time().Sub(now) <= within {
		return false
	}
	if r == nil {
		say(out, "The session of %s at %s is valid until %s, longer than %s: nothing to renew.\n",
			text.Safe(sess.Email), text.URL(sess.URL), when(sess.Expires.Time(), now), text.Duration(within))
		return true
	}
	by := "another process"
	if last, ok, err := r.Last(sess.URL, sess.Email); err == nil && ok && !last.Refused {
		by = last.By() + " at " + last.At.Local().Format("15:04:05")
	}
	say(out, "Joined the renewal by %s: the session of %s at %s is valid until %s.\n",
		by, text.Safe(sess.Email), text.URL(sess.URL), when(sess.Expires.Time(), now))
	return true
}

// refusedLately fails (errkind.Login) when the renewal note says the
// server refused the session's password less than renewal.RefusalHold ago.
func (f *Commands) refusedLately(url, email string, r *renewal.Lock) error {
	last, ok, err := renewal.Last(f.Path, url, email)
	if r != nil {
		last, ok, err = r.Last(url, email)
	}
	if err != nil {
		return err
	}
	now := f.now()
	if !ok || !last.Refused || now.Sub(last.At) >= renewal.RefusalHold || last.At.After(now.Add(renewal.RefusalHold)) {
		return nil
	}
	return errkind.Errorf(errkind.Login, "the server refused the password of %s at %s at %s (%s); renewals do not send it again until %s: fix it, then log in now (`%s`) or renew with --force",
		text.Safe(email), text.URL(url), last.At.Local().Format("15:04:05"), last.By(),
		last.At.Add(renewal.RefusalHold).Local().Format("15:04:05"), loginCommand(url, email))
}
