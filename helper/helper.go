// Package helper carries out every command on the session file: get, store
// and erase in the key=value protocol, and token, list, logout, doctor and
// the storing step of login. Each command is a method of File that takes
// its input and output streams, so that the command line only wires flags
// to it.
package helper

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Name is the program's name, which starts every message.
const Name = "cryosparc-credential"

// DefaultLifetime is how long a stored session lasts when the request gives
// no expiry: the CryoSPARC server's default token lifetime.
const DefaultLifetime = 14 * 24 * time.Hour

// ErrNotFound is matched by the error of a command that found no session.
var ErrNotFound = errkind.New(errkind.NotFound, "no session found")

// bad returns a bad-input error (exit 2).
func bad(format string, a ...any) error { return errkind.Errorf(errkind.BadInput, format, a...) }

// File carries out commands on the session file at Path.
type Commands struct {
	Path    string
	Options store.Options // clock, lock timeout, read waits
	// DefaultURL is the instance a command means when given none (see
	// DefaultURL); "" leaves it to cryosparc-tools' find (the first
	// instance with a session).
	DefaultURL string
	// Stderr receives warnings and hints for people; never a token.
	Stderr io.Writer
	// StdinIsTerminal makes a protocol command say that it is waiting for
	// key=value lines.
	StdinIsTerminal bool
}

func (f *Commands) now() time.Time {
	if f.Options.Now != nil {
		return f.Options.Now()
	}
	return time.Now()
}

func (f *Commands) warnf(format string, a ...any) {
	if f.Stderr != nil {
		fmt.Fprintf(f.Stderr, Name+": warning: "+format+"\n", a...)
	}
}

func (f *Commands) options() *store.Options {
	o := f.Options
	o.Warn = func(msg string) { f.warnf("%s", msg) }
	return &o
}

// servable reports whether err is a file problem that still lets the valid
// entries be read: entries cryosparc-tools rejects in a file that is
// otherwise a session file.
func servable(err error) bool {
	var inv *store.InvalidError
	return errors.As(err, &inv) && !inv.Syntax() && !inv.Foreign()
}

// load reads the session file; when it holds entries cryosparc-tools
// would reject, it warns and goes on with the valid ones.
func (f *Commands) load(keepExpired bool) (*store.Sessions, error) {
	o := f.options()
	o.KeepExpired = keepExpired
	s, err := store.Load(f.Path, o)
	if err != nil && !servable(err) {
		return nil, err
	}
	if err != nil {
		f.warnf("%v; using the valid entries (run %s doctor)", err, Name)
	}
	return s, nil
}

// lookup finds the session for url and email as cryosparc-tools would,
// with load's warning for rejected entries.
func (f *Commands) lookup(url, email string) (store.Session, bool, error) {
	sess, ok, err := store.Lookup(f.Path, f.options(), url, email)
	if err != nil && !servable(err) {
		return sess, false, err
	}
	if err != nil {
		f.warnf("%v; using the valid entries (run %s doctor)", err, Name)
	}
	return sess, ok, nil
}

// update changes the session file under its lock (see store.Update).
func (f *Commands) update(change func(*store.Sessions) error) error {
	return store.Update(f.Path, f.options(), change)
}

// InstanceURL checks a URL given for an instance (by a flag, a request or
// the environment) and returns it with http:// added when it has no
// scheme. Its errors never show a user:password part or a query.
func InstanceURL(raw string) (string, error) {
	u := store.WithScheme(raw)
	if _, err := store.CanonicalURL(u); err != nil {
		return "", err
	}
	return u, nil
}

// instance returns the instance a command's URL flag names, checked: the
// flag's value, else DefaultURL, else "" (any instance).
func (f *Commands) instance(flag string) (string, error) {
	if flag == "" {
		flag = f.DefaultURL
	}
	if flag == "" {
		return "", nil
	}
	return InstanceURL(flag)
}

// Carriable reports whether a value can travel as a key=value line and read
// back the same: no line feed, no NUL, no final carriage return (which a
// reader drops).
func Carriable(v string) bool {
	return !strings.ContainsAny(v, "\n\x00") && !strings.HasSuffix(v, "\r")
}

// notFound returns the ErrNotFound error for a question about url and
// email (either may be empty), naming what was looked up and where, and,
// from s (the file's sessions, expired ones included; nil if unknown), the
// stored instance the URL probably meant and the instances that do have
// live sessions (URLs only).
func (f *Commands) notFound(url, email string, s *store.Sessions) error {
	var what string
	switch {
	case url != "" && email != "":
		what = " for " + text.Safe(email) + " at " + text.Safe(url)
	case url != "":
		what = " for " + text.Safe(url)
	case email != "":
		what = " for " + text.Safe(email)
	}
	msg := fmt.Sprintf("%s in %s", what, text.Safe(f.Path))
	var stored []string
	if s != nil {
		now := f.now()
		for _, sess := range s.All() {
			if sess.Expires.Live(now) && (len(stored) == 0 || stored[len(stored)-1] != sess.URL) {
				stored = append(stored, sess.URL)
			}
		}
	}
	if url != "" {
		if guess := didYouMean(url, stored); guess != "" {
			return fmt.Errorf("%w%s; did you mean %s? (the instance's web address, without the page path)", ErrNotFound, msg, text.Safe(guess))
		}
	}
	switch {
	case len(stored) == 0:
		msg += fmt.Sprintf("; it holds no session: log in with `%s login`", Name)
	case len(stored) <= 3:
		list := ""
		for i, u := range stored {
			if i > 0 {
				list += ", "
			}
			list += text.Safe(u)
		}
		msg += fmt.Sprintf("; sessions are stored for %s; log in with `%s login` for another", list, Name)
	default:
		msg += fmt.Sprintf("; sessions are stored for %d instances (`%s list` shows them); log in with `%s login` for another", len(stored), Name, Name)
	}
	return fmt.Errorf("%w%s", ErrNotFound, msg)
}

// didYouMean returns the stored instance URL that url most likely meant:
// the same host and port, with http and https mixed up, or with a page
// path after the instance's own (a URL copied from the browser, such as
// https://cs.example.com/browse/P1-W1-J5).
func didYouMean(url string, stored []string) string {
	origin, path, err := store.SplitURL(url)
	if err != nil {
		return ""
	}
	for _, s := range stored {
		so, sp, err := store.SplitURL(s)
		if err != nil || !sameHost(origin, so) {
			continue
		}
		if sp == "" || path == sp || strings.HasPrefix(path, sp+"/") {
			return s
		}
	}
	return ""
}

// sameHost compares two canonical origins, the scheme aside.
func sameHost(a, b string) bool {
	strip := func(o string) string {
		o = o[strings.Index(o, "://")+3:]
		return strings.TrimSuffix(strings.TrimSuffix(o, ":80"), ":443")
	}
	return strip(a) == strip(b)
}

// DefaultURL is the instance cryosparc-tools' CryoSPARC() uses when given
// none, from the environment lookup reads: CRYOSPARC_BASE_URL, or
// http://$CRYOSPARC_MASTER_HOSTNAME:$CRYOSPARC_BASE_PORT (host localhost,
// port 61000 by default) when either of those is set; "" when none is. As
// cryosparc-tools, it refuses both kinds at once.
func DefaultURL(lookup func(string) (string, bool)) (string, error) {
	base, _ := lookup("CRYOSPARC_BASE_URL")
	host, _ := lookup("CRYOSPARC_MASTER_HOSTNAME")
	port, _ := lookup("CRYOSPARC_BASE_PORT")
	if host == "" && port == "" {
		if base == "" {
			return "", nil
		}
		return InstanceURL(base)
	}
	if base != "" {
		return "", bad("CRYOSPARC_BASE_URL and CRYOSPARC_MASTER_HOSTNAME/CRYOSPARC_BASE_PORT are both set; cryosparc-tools refuses that too: unset one")
	}
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "61000"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad("CRYOSPARC_BASE_PORT=%s is not a port number", text.Quote(port))
	}
	return InstanceURL("http://" + host + ":" + port)
}
