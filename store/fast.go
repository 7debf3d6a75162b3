package store

import (
	"runtime/debug"
	"strings"
)

// Lookup returns the session Find(url, email) returns in the file at path,
// reading it as Load does but building no more than the answer needs: it is
// the fast way to answer one question. When the file holds entries
// cryosparc-tools would reject, the answer comes from its valid part, with
// the *InvalidError.
func Lookup(path string, opt *Options, url, email string) (sess Session, found bool, err error) {
	err = load(path, opt, mapFile, mayName(url), func(s *Sessions) {
		sess, found = s.Find(url, email)
		// The file's bytes are released after this: keep copies.
		sess.URL, sess.Email, sess.Token = strings.Clone(sess.URL), strings.Clone(sess.Email), strings.Clone(sess.Token)
	})
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
