// Package helper carries out every command on the session file: get, store
// and erase in the key=value protocol, and token, list, logout, status,
// doctor, login and its renewal, and the session and environment of exec.
// Every command is a method of Commands, whose IO holds the streams:
// Get, Store and Erase read their request from IO.In; Token, List, Logout,
// Status, Doctor, Login, Renew and LoginCommand (the login command: what
// is asked, in what order, where the password comes from) take a query
// struct. Each writes what it prints to IO.Out; exec's session comes from
// ForCryoSPARC and its environment from ExecEnv. The rules about flags are
// here too: which go together, an empty --url or --email (CheckGiven),
// --min-ttl job (SlurmJobTimeLeft). Warnings and hints for people go to
// IO.ErrOut.
package helper

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
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

// IOStreams are the streams of a command, and whether each is a terminal,
// as gh's iostreams.IOStreams: the one way streams reach a command. The
// zero value reads nothing and writes nothing.
type IOStreams struct {
	// In holds the key=value request of get, store and erase; nil reads
	// as an empty request.
	In io.Reader
	// Out receives what a command prints: a session, a token, a list, a
	// report; nil discards it.
	Out io.Writer
	// ErrOut receives warnings and notices for people, never a token; nil
	// discards them.
	ErrOut io.Writer
	// InTTY makes a protocol command say that it is waiting for key=value
	// lines.
	InTTY bool
	// OutTTY makes get and token escape control characters in what they
	// print.
	OutTTY bool
	// ErrTTY makes a command that chose among several sessions say which
	// it used.
	ErrTTY bool
}

// Commands carries out every command on the session file at Path, for a
// process whose environment Env reads, with the streams IO: each command
// is a method taking its query, as docker-credential-helpers'
// HandleCommand does.
type Commands struct {
	Path    string
	Options store.Options // clock, lock timeout, read waits
	// Env reads the process's environment: cryosparc-tools' variables
	// choose the session a command means when it names none (see Select).
	// nil reads nothing.
	Env func(key string) (string, bool)
	IO  IOStreams
}

// in is where a protocol command reads its request.
func (f *Commands) in() io.Reader {
	if f.IO.In == nil {
		return strings.NewReader("")
	}
	return f.IO.In
}

// out is where a command prints.
func (f *Commands) out() io.Writer {
	if f.IO.Out == nil {
		return io.Discard
	}
	return f.IO.Out
}

func (f *Commands) now() time.Time {
	if f.Options.Now != nil {
		return f.Options.Now()
	}
	return time.Now()
}

func (f *Commands) warnf(format string, a ...any) {
	if f.IO.ErrOut != nil {
		say(f.IO.ErrOut, Name+": warning: "+format+"\n", a...)
	}
}

// say writes text for people to w, stdout or stderr, dropping the error on
// purpose: the command line's stdout keeps its first failed write and
// reports it once the command is done (exit 5), and a failed write to
// stderr has nowhere to be reported.
func say(w io.Writer, format string, a ...any) {
	if w == nil {
		return // IOStreams' nil ErrOut discards
	}
	_, _ = fmt.Fprintf(w, format, a...)
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

// exists reports whether there is a file (of any kind) at Path.
func (f *Commands) exists() bool {
	_, err := os.Stat(f.Path)
	return !errors.Is(err, fs.ErrNotExist)
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

// Carriable reports whether a value can travel as a key=value line and read
// back the same, also through a reader that splits lines at a carriage
// return (Python's text mode): no line feed, carriage return or NUL, and
// short enough for a protocol line under its longest key.
func Carriable(v string) bool {
	return !strings.ContainsAny(v, "\n\r\x00") && len(v) <= protocol.MaxLine-len("access_token=")
}

// plain reports whether v holds no control character: what a server may
// issue as a token (an escape sequence in one would reach a terminal).
func plain(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// shown is v as it may be written to IO.Out: unchanged, except on a terminal,
// where control characters are escaped so that no escape sequence from the
// file reaches it.
func (f *Commands) shown(v string) string {
	if !f.IO.OutTTY || plain(v) {
		return v
	}
	q := strconv.Quote(v)
	return q[1 : len(q)-1]
}

// notFound returns the ErrNotFound error for a question (sel) that found
// nothing, naming what was looked up, where it came from and where, and,
// from s (the file's sessions, expired ones included; nil when there is no
// file), what was probably meant: the stored instance a URL names with a
// page path or the other scheme, the emails that do have sessions on the
// instance, or the instances that have sessions.
func (f *Commands) notFound(sel Selection, s *store.Sessions) error {
	if s == nil {
		return fmt.Errorf("%w%s: there is no session file at %s; log in with `%s`", ErrNotFound, sel.describe(), text.Safe(f.Path), loginCommand(sel.URL, sel.Email))
	}
	msg := sel.describe() + " in " + text.Safe(f.Path)
	now := f.now()
	var stored, emails []string
	instance := "" // the stored instance sel.URL names
	if sel.URL != "" {
		if first, ok := s.Find(sel.URL, ""); ok {
			instance = first.URL
		}
	}
	for _, sess := range s.All() {
		if !sess.Expires.Live(now) {
			continue
		}
		if len(stored) == 0 || stored[len(stored)-1] != sess.URL {
			stored = append(stored, sess.URL)
		}
		if instance != "" && sess.URL == instance {
			emails = append(emails, sess.Email)
		}
	}
	switch {
	case len(emails) > 0:
		return fmt.Errorf("%w%s; that instance has sessions for %s only; log in with `%s`", ErrNotFound, msg, listSafe(emails, 3, text.Safe), loginCommand(sel.URL, sel.Email))
	case sel.URL != "" && instance == "":
		if guess := didYouMean(sel.URL, stored); guess != "" {
			why := "the instance's web address, without the page path"
			_, askedPath, _ := store.SplitURL(sel.URL)
			if _, storedPath, _ := store.SplitURL(guess); askedPath == storedPath {
				why = "the session is stored under the other scheme"
			}
			return fmt.Errorf("%w%s; did you mean %s? (%s)", ErrNotFound, msg, text.URL(guess), why)
		}
	}
	switch {
	case len(stored) == 0:
		msg += "; it holds no session"
	case len(stored) <= 3:
		msg += "; sessions are stored for " + listSafe(stored, 3, text.URL)
	default:
		msg += fmt.Sprintf("; sessions are stored for %d instances (`%s list` shows them)", len(stored), Name)
	}
	return fmt.Errorf("%w%s; log in with `%s`", ErrNotFound, msg, loginCommand(sel.URL, sel.Email))
}

// listSafe lists at most n values, each made safe by show, and how many
// more there are.
func listSafe(values []string, n int, show func(string) string) string {
	var b strings.Builder
	for i, v := range values {
		if i == n {
			fmt.Fprintf(&b, " and %d more", len(values)-n)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(show(v))
	}
	return b.String()
}

// loginCommand is the command line that logs in for url and email (either
// may be empty: then it is asked).
func loginCommand(url, email string) string {
	cmd := Name + " login"
	if url != "" {
		cmd += " --url " + text.URL(url)
	}
	if email != "" {
		cmd += " --email " + text.Safe(email)
	}
	return cmd
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
