package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func revFile(t *testing.T, sess ...Session) []byte {
	s := &Sessions{}
	for _, x := range sess {
		if _, err := s.Insert(x); err != nil {
			t.Fatal(err)
		}
	}
	return s.Marshal()
}

// Two stale cryosparc-tools saves (both loaded the file before the erase):
// #1 truncates the file before the rename and writes into the replaced
// file; #2 writes into the file just renamed in. The erased session comes
// back through merge, and is noted as this program's store.
func TestGuardEraseResurrectedByMerge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	exp := ExpiryFromTime(time.Now().Add(48 * time.Hour).Truncate(time.Second))
	u := "http://a:1"
	X := Session{URL: u, Email: "x@e", Token: "TX", Expires: exp}
	K := Session{URL: u, Email: "k@e", Token: "TK", Expires: exp}
	P1 := Session{URL: u, Email: "p1@e", Token: "TP1", Expires: exp}
	P2 := Session{URL: u, Email: "p2@e", Token: "TP2", Expires: exp}
	if err := os.WriteFile(path, revFile(t, K, X), 0o600); err != nil {
		t.Fatal(err)
	}
	var f0 *os.File
	sleeps := 0
	opt := &Options{Sleep: func(d time.Duration) {
		sleeps++
		if sleeps == 1 && f0 != nil {
			// save #1 finishes its write into the replaced file
			f0.Write(revFile(t, K, X, P1))
			f0.Close()
			// save #2, loaded before the erase, saves into the new file
			os.WriteFile(path, revFile(t, K, X, P2), 0o600)
		}
		time.Sleep(d)
	}}
	err := Update(path, opt, func(s *Sessions) error {
		// save #1 truncates (open O_TRUNC) the file the update read
		var err error
		f0, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Erase(Filter{URL: u, Email: "x@e"}) == 0 {
			t.Fatal("nothing erased")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(recentPath(path))
	t.Logf("record: %s", rec)
	if sess, ok := got.Find(u, "x@e"); ok {
		t.Errorf("erased session is back after the erase returned nil: token %q", sess.Token)
	}
}

// A store of a session with a shorter expiry than the one it replaces:
// a stale save landing in the new file after a merge round puts back the
// old token and the record notes it as this program's write.
func TestGuardStoreLostByMerge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	long := ExpiryFromTime(time.Now().Add(14 * 24 * time.Hour).Truncate(time.Second))
	short := ExpiryFromTime(time.Now().Add(2 * time.Hour).Truncate(time.Second))
	u := "http://a:1"
	O := Session{URL: u, Email: "x@e", Token: "OLD", Expires: long}
	A := Session{URL: u, Email: "x@e", Token: "NEW", Expires: short}
	P1 := Session{URL: u, Email: "p1@e", Token: "TP1", Expires: long}
	P2 := Session{URL: u, Email: "p2@e", Token: "TP2", Expires: long}
	if err := os.WriteFile(path, revFile(t, O), 0o600); err != nil {
		t.Fatal(err)
	}
	var f0 *os.File
	sleeps := 0
	opt := &Options{Sleep: func(d time.Duration) {
		sleeps++
		if sleeps == 1 && f0 != nil {
			f0.Write(revFile(t, O, P1))
			f0.Close()
			os.WriteFile(path, revFile(t, O, P2), 0o600)
		}
		time.Sleep(d)
	}}
	err := Update(path, opt, func(s *Sessions) error {
		var err error
		f0, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Insert(A)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Load(path, &Options{})
	rec, _ := os.ReadFile(recentPath(path))
	t.Logf("record: %s", rec)
	if sess, _ := got.Find(u, "x@e"); sess.Token != "NEW" {
		t.Errorf("store acknowledged, file holds %q", sess.Token)
	}
}

// TestGuardEraseUndoneByLaterStore: one stale save (it loaded the file
// while X was stored, before the logout) lands in the file a later store
// has read and is replacing: X must not be merged back as a new login.
func TestGuardEraseUndoneByLaterStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	exp := ExpiryFromTime(time.Now().Add(48 * time.Hour).Truncate(time.Second))
	u := "http://a:1"
	X := Session{URL: u, Email: "x@e", Token: "TX", Expires: exp}
	P := Session{URL: u, Email: "p@e", Token: "TP", Expires: exp}
	Y := Session{URL: u, Email: "y@e", Token: "TY", Expires: exp}
	opt := &Options{}
	if err := Update(path, opt, func(s *Sessions) error { _, err := s.Insert(X); return err }); err != nil {
		t.Fatal(err)
	}
	stale := revFile(t, X, P) // what the save loaded, plus its own login
	if err := Update(path, opt, func(s *Sessions) error { s.Erase(Filter{URL: u, Email: "x@e"}); return nil }); err != nil {
		t.Fatal(err)
	}
	err := Update(path, opt, func(s *Sessions) error {
		// the save's open(O_TRUNC) and write, in place, after this store read the file
		if err := os.WriteFile(path, stale, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Insert(Y)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// one more command
	got, err := Load(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(recentPath(path))
	t.Logf("record: %s", rec)
	if sess, ok := got.Find(u, "x@e"); ok {
		t.Errorf("logged-out session back after one more command: %q", sess.Token)
	}
}
