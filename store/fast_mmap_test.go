//go:build unix

package store

import (
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
