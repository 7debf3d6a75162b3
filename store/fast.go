package store

// The speed layers, and where they reach:
//
//   - mapOpen (fast_mmap_*.go): the file's pages mapped, not copied; only
//     Ask (and so Lookup) maps a file, Load copies it;
//   - internal/authjson's canonical reader: cryosparc-tools' exact layout
//     matched as fixed text between the strings; parse (parse.go) tries it
//     first for every parse, Load's and Update's included, and the general
//     parser reads every file it does not recognise;
//   - the SWAR scan (authjson's scanner.go): string ends and indentation
//     found eight bytes at a time, used by both readers;
//   - zero-copy strings: the strings both readers return point into the
//     bytes read (authjson's scanner.view, the one unsafe.String): Load's
//     sessions keep its copy of the file alive, Lookup copies its answer
//     before a mapped file is released, Parse, the public function, copies
//     every string; and snapshot.parse checks, after the parse, that a
//     mapped file did not change while it was read;
//   - the garbage collector, turned off by the command line for a one-shot
//     process (debug.SetGCPercent(-1) in internal/cmdline), not here.
//
// The mapping and the zero-copy strings were kept by measurement
// (docs/performance.md, "mmap and zero-copy strings").
// TestFastPathMatchesGeneral (fast_test.go) checks on random files that
// Lookup gives exactly what Load + Find give, and FuzzParse that the
// canonical reader agrees with the general parser on any bytes.

import (
	"errors"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// Lookup returns the session Find(url, email) returns in the file at path,
// reading it as Load does but building no more than the answer needs: it is
// the fast way to answer one question. When the file holds entries
// cryosparc-tools would reject, the answer comes from its valid part, with
// the *InvalidError; with any other error there is no answer.
//
// Like Load, it answers with a write of this program's that a save by
// cryosparc-tools dropped, and puts it back.
func Lookup(path string, opt *Options, url, email string) (sess Session, found bool, err error) {
	a, err := Ask(path, opt, Query{URL: url, Email: email})
	return a.Session, a.Found, err
}

// Query is a question for Ask: the session Find(URL, Email) returns, and
// whether the whole file read is wanted beside it.
type Query struct {
	URL, Email string
	Whole      Whole
}

// Whole says when Ask gives, beside the answer, every session of the
// version of the file the answer came from.
type Whole int

const (
	WholeNever  Whole = iota // the answer alone, as Lookup
	WholeOnMiss              // when there is no answer: to say why
	WholeAlways              // always: to say what else could have been meant
)

// Answer is what Ask found in one version of the file.
type Answer struct {
	Session Session
	Found   bool
	// Whole, when the query asked for it, is every session of the version
	// the answer came from, expired ones included (Options.KeepExpired),
	// with what Load puts back; nil otherwise. It is parsed from the same
	// bytes as the answer: no second read, which could meet another
	// version of the file, or wait for a torn one again.
	Whole *Sessions
}

// Ask answers q from one read of the file at path, as Lookup does; the
// whole file, when asked for, costs a second parse of the bytes read (a
// copy of every string in it), never a second read. As with Lookup, an
// *InvalidError comes with the answer from the file's valid part; with any
// other error the Answer is empty.
func Ask(path string, opt *Options, q Query) (Answer, error) {
	at := openReading(path)
	recent := at.recent(path, opt)
	var a Answer
	restored := false
	err := loadData(path, opt, at.reader(mapOpen), widen(urlrule.MayName(q.URL), recent), func(s *Sessions, data []byte) {
		now := opt.now()
		restored = restoreDropped(s, recent, now)
		a.Session, a.Found = s.Find(q.URL, q.Email)
		// The file's bytes are released after this: keep copies.
		a.Session.URL, a.Session.Email, a.Session.Token = strings.Clone(a.Session.URL), strings.Clone(a.Session.Email), strings.Clone(a.Session.Token)
		a.Whole = nil
		if q.Whole == WholeAlways || q.Whole == WholeOnMiss && !a.Found {
			// Its error is the answer's: the same bytes.
			a.Whole, _ = parseFile(data, path, time.Time{}, nil)
			if a.Whole == nil {
				a.Whole = &Sessions{}
			}
			a.Whole.detach()
			restored = restoreDropped(a.Whole, recent, now) || restored
		}
	})
	at.dir.Close()
	if err != nil && !invalid(err) {
		return Answer{}, err
	}
	if err == nil && restored {
		writeBack(path, opt)
	}
	return a, err
}

// mapFile is mapOpen of the file at path.
func mapFile(path string, opt *Options) (*snapshot, error) {
	return reading{}.reader(mapOpen)(path, opt)
}

// invalid reports whether err is an *InvalidError: a file read whole,
// whose valid part answers.
func invalid(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv)
}

// guard runs f, turning a memory fault (a mapped file truncated under
// it) into a true result instead of a crash.
func guard(f func()) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(interface{ Addr() uintptr }); ok && e != nil {
				faulted = true
				return
			}
			panic(r)
		}
	}()
	f()
	return false
}
