//go:build unix

package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMappedFileTruncated checks that reading a mapped file that another
// process truncated is reported as a fault, not a crash.
func TestMappedFileTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	_, data := benchFile(2000)
	os.WriteFile(path, data, 0o600)
	// Seen an hour later, the file is no longer recent: it is mapped.
	snap, err := mapFile(path, &Options{clock: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.close()
	if snap.unmap == nil {
		t.Fatal("a file not changed recently was not mapped")
	}
	mapped := snap.data
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	var sum byte
	faulted := guard(func() {
		for _, b := range mapped[len(mapped)-5000:] {
			sum += b
		}
	})
	if !faulted {
		t.Fatal("reading past the end of a truncated mapping did not fault")
	}
	if guard(func() {}) {
		t.Error("guard reports a fault for code that did not fault")
	}
}

// TestLookupMatchesFind checks Lookup against Load + Find on the golden
// inputs, for several questions.
func TestLookupMatchesFind(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/golden/*.in.json")
	for _, in := range inputs {
		s, err := Load(in, &Options{Now: func() time.Time { return fixedNow }})
		if err != nil {
			t.Fatal(err)
		}
		questions := [][2]string{{"", ""}}
		for _, sess := range s.All() {
			questions = append(questions, [2]string{sess.URL, ""}, [2]string{sess.URL, sess.Email}, [2]string{"", sess.Email})
		}
		for _, q := range questions {
			want, wantOK := s.Find(q[0], q[1])
			got, ok, err := Lookup(in, &Options{Now: func() time.Time { return fixedNow }}, q[0], q[1])
			if err != nil || ok != wantOK || got != want {
				t.Errorf("%s: Lookup(%q, %q) = %+v %v %v, want %+v %v", in, q[0], q[1], got, ok, err, want, wantOK)
			}
		}
	}
}

// TestSmallFileCopied: a file smaller than mapMin is copied even when it
// is not recent (mapping it cost more than copying), and one of mapMin
// bytes or more is mapped.
func TestSmallFileCopied(t *testing.T) {
	a, _ := twoVersions()
	big := append(bytes.Repeat([]byte(" "), mapMin), a...) // JSON allows leading blanks
	for _, tt := range []struct {
		data   []byte
		mapped bool
	}{{a, false}, {big, true}} {
		path := filepath.Join(t.TempDir(), "auth.json")
		c := newFakeFS(t, time.Nanosecond)
		c.write(path, tt.data)
		c.now = c.now.Add(time.Hour)
		opt := c.options()
		opt.mapMin = 0 // the program's own
		snap, err := mapFile(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := snap.unmap != nil; got != tt.mapped || !bytes.Equal(snap.data, tt.data) {
			t.Errorf("%d bytes: mapped %v, want %v (bytes read equal: %v)", len(tt.data), got, tt.mapped, bytes.Equal(snap.data, tt.data))
		}
		snap.close()
	}
}
