package store

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// TestStaleRetried: an open or a read that the file server refuses with
// ESTALE (another NFS client replaced the file) is tried again, within the
// bound of a torn read; Lookup (mapped or copied) and Load then answer from
// the file.
func TestStaleRetried(t *testing.T) {
	a, _ := twoVersions()
	for _, tt := range []struct {
		op       string
		failures int
		age      time.Duration // a recent file is read twice, an old one mapped
	}{
		{"open", 1, time.Hour},
		{"open", 50, time.Hour},
		{"read", 1, 0},
		{"read", 3, 0},
		{"read", 2, time.Hour},
	} {
		for _, api := range []string{"Lookup", "Load"} {
			if api == "Lookup" && tt.op == "read" && tt.age > 0 {
				// Mapped, not read: a page that cannot be read in faults,
				// as TestMappedFileTruncated shows.
				continue
			}
			path := filepath.Join(t.TempDir(), "auth.json")
			c := newFakeFS(t, time.Nanosecond)
			c.write(path, a)
			c.now = c.now.Add(tt.age)
			n := 0
			inject := func(op string) error {
				if op == tt.op {
					if n++; n <= tt.failures {
						return syscall.ESTALE
					}
				}
				return nil
			}
			var (
				sess Session
				ok   bool
				err  error
			)
			if api == "Lookup" {
				sess, ok, err = Lookup(path, withFault(c.options(), inject), "https://b.example.com", "bo@example.com")
			} else {
				var s *Sessions
				if s, err = Load(path, withFault(c.options(), inject)); err == nil {
					sess, ok = s.Find("https://b.example.com", "bo@example.com")
				}
			}
			if err != nil || !ok || sess.Token != "tok-A-bo@example.com" {
				t.Errorf("%s, %d ESTALE on %s: %+v %v %v", api, tt.failures, tt.op, sess, ok, err)
			}
			if c.sleeps < 1 {
				t.Errorf("%s, %d ESTALE on %s: answered without trying again", api, tt.failures, tt.op)
			}
		}
	}
}

// TestStaleForever: a file the server keeps refusing with ESTALE gives a
// file error (exit 3) after MaxWait that says so, not "not found".
func TestStaleForever(t *testing.T) {
	a, _ := twoVersions()
	for _, op := range []string{"open", "read"} {
		path := filepath.Join(t.TempDir(), "auth.json")
		c := newFakeFS(t, time.Nanosecond)
		c.write(path, a)
		inject := func(o string) error {
			if o == op {
				return syscall.ESTALE
			}
			return nil
		}
		start := c.now
		_, found, err := Lookup(path, withFault(c.options(), inject), "https://b.example.com", "bo@example.com")
		if found || !errors.Is(err, ErrUnsafe) || !errors.Is(err, syscall.ESTALE) || errkind.Of(err) != errkind.File {
			t.Fatalf("ESTALE on every %s: found %v, %v", op, found, err)
		}
		if !strings.Contains(err.Error(), "kept answering") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("message: %v", err)
		}
		if waited := c.now.Sub(start); waited < MaxWait || waited > MaxWait+100*time.Millisecond {
			t.Errorf("ESTALE on every %s: gave up after %s", op, waited)
		}
	}
}
