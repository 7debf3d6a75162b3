package store

// The fast path. Everything that exists only for speed sits behind one
// boundary, Lookup, in the files named fast*.go:
//
//   - mapFile (fast_mmap_*.go): the file's pages mapped, not copied;
//   - the canonical reader (fast_canonical.go): cryosparc-tools' exact
//     layout matched as fixed text between the strings;
//   - the SWAR scan (fast_scan.go): string ends and indentation found
//     eight bytes at a time;
//   - zero-copy strings: what the canonical reader returns points into the
//     file's bytes (unsafe.String), so Lookup copies its answer before they
//     are released, and load checks, after the parse, that the mapped file
//     did not change while it was read;
//   - the garbage collector, turned off by package main for a one-shot
//     process (debug.SetGCPercent(-1) in main.go), not here.
//
// Its reference is the general path: Load (the file copied) + Find, and the
// general parser (parse.go, json.go), which the canonical reader hands every
// file it does not recognise. TestFastPathMatchesGeneral (fast_test.go)
// checks on random files that Lookup gives exactly what the general path
// gives, and FuzzParse that the canonical reader agrees with the general
// parser on any bytes.

import (
	"runtime/debug"
	"strings"
)

// Lookup returns the session Find(url, email) returns in the file at path,
// reading it as Load does but building no more than the answer needs: it is
// the fast way to answer one question. When the file holds entries
// cryosparc-tools would reject, the answer comes from its valid part, with
// the *InvalidError.
//
// Like Load, it answers with a write of this program's that a save by
// cryosparc-tools dropped, and puts it back.
func Lookup(path string, opt *Options, url, email string) (sess Session, found bool, err error) {
	recent := readerRecent(path, opt)
	restored := false
	err = load(path, opt, mapFile, widen(mayName(url), recent), func(s *Sessions) {
		restored = restoreDropped(s, recent, opt.now())
		sess, found = s.Find(url, email)
		// The file's bytes are released after this: keep copies.
		sess.URL, sess.Email, sess.Token = strings.Clone(sess.URL), strings.Clone(sess.Email), strings.Clone(sess.Token)
	})
	if err == nil && restored {
		writeBack(path, opt)
	}
	return sess, found, err
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
