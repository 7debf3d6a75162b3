package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// TestAskReadsOnce: Ask answers, and gives the whole file when asked (every
// session, expired ones included, as Load with KeepExpired gives them),
// from one open of the file; the whole file only when the query asks.
func TestAskReadsOnce(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Sessions{}
	for _, x := range []struct {
		url, email string
		expires    time.Time
	}{
		{"https://a.example.com", "old@example.com", now.Add(-time.Hour)},
		{"https://a.example.com", "ali@example.com", now.Add(time.Hour)},
		{"https://b.example.com", "bo@example.com", now.Add(time.Hour)},
		{"https://c.example.com", "gone@example.com", now.Add(-time.Hour)},
	} {
		if _, err := s.Insert(Session{URL: x.url, Email: x.email, Token: "tok-" + x.email, Expires: ExpiryFromTime(x.expires)}); err != nil {
			t.Fatal(err)
		}
	}
	data := s.Marshal()
	for _, tt := range []struct {
		name       string
		file       []byte // nil: no file
		url, email string
		whole      Whole
		want       string // the token found, "" for none
		wantWhole  bool
	}{
		{"found, never", data, "https://a.example.com", "", WholeNever, "tok-ali@example.com", false},
		{"found, on a miss", data, "https://b.example.com", "bo@example.com", WholeOnMiss, "tok-bo@example.com", false},
		{"found, always", data, "", "", WholeAlways, "tok-ali@example.com", true},
		{"missed, never", data, "https://c.example.com", "", WholeNever, "", false},
		{"expired, on a miss", data, "https://a.example.com", "old@example.com", WholeOnMiss, "", true},
		{"missed, on a miss", data, "https://z.example.com", "", WholeOnMiss, "", true},
		{"missed, always", data, "", "nobody@example.com", WholeAlways, "", true},
		{"no file, on a miss", nil, "", "", WholeOnMiss, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if tt.file != nil {
				if err := os.WriteFile(path, tt.file, 0o600); err != nil {
					t.Fatal(err)
				}
				old := time.Now().Add(-time.Hour) // untouched: Ask maps it
				if err := os.Chtimes(path, old, old); err != nil {
					t.Fatal(err)
				}
			}
			opens := 0
			opt := withFault(&Options{Now: func() time.Time { return now }}, func(op string) error {
				if op == "open" {
					opens++
				}
				return nil
			})
			a, err := Ask(path, opt, Query{URL: tt.url, Email: tt.email, Whole: tt.whole})
			if err != nil {
				t.Fatal(err)
			}
			if a.Found != (tt.want != "") || a.Session.Token != tt.want {
				t.Errorf("answer %+v %v, want token %q", a.Session, a.Found, tt.want)
			}
			if want := min(len(tt.file), 1); opens != want {
				t.Errorf("the file was opened %d times, want %d", opens, want)
			}
			if (a.Whole != nil) != tt.wantWhole {
				t.Fatalf("whole file given: %v, want %v", a.Whole != nil, tt.wantWhole)
			}
			if a.Whole == nil {
				return
			}
			want, err := Load(path, &Options{Now: func() time.Time { return now }, KeepExpired: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Whole.All(), want.All()) {
				t.Errorf("whole file:\n%+v\nwant (Load, expired kept):\n%+v", a.Whole.All(), want.All())
			}
		})
	}
}

// TestAskAbandonedFileWaitedOnce: a miss in an empty file left alone (an
// abandoned write) is answered, with the whole file (nothing), after one
// wait of AbandonAfter: saying why nothing was found reads nothing again.
func TestAskAbandonedFileWaitedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	c := newFakeFS(t, time.Nanosecond)
	c.write(path, nil)
	c.now = c.now.Add(time.Hour)
	start := c.now
	a, err := Ask(path, c.options(), Query{URL: "https://a.example.com", Whole: WholeOnMiss})
	if err != nil || a.Found || a.Whole == nil || a.Whole.Len() != 0 {
		t.Fatalf("Ask = %+v, %v; want no session, an empty whole file", a, err)
	}
	if waited := c.now.Sub(start); waited < AbandonAfter || waited > AbandonAfter+100*time.Millisecond {
		t.Errorf("waited %s, want AbandonAfter (%s) once", waited, AbandonAfter)
	}
}

// TestLookupNoAnswerWithError: a read whose answer was found in bytes
// later seen to be another version, and that then fails (here ESTALE until
// MaxWait), gives the error and no session.
func TestLookupNoAnswerWithError(t *testing.T) {
	a, b := twoVersions()
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	c := newFakeFS(t, time.Nanosecond)
	c.write(path, a)
	c.now = c.now.Add(time.Hour) // untouched: mapped, checked after the parse
	opens := 0
	inject := func(op string) error {
		if op != "open" {
			return nil
		}
		if opens++; opens == 1 {
			// Replaced after the open: what is parsed is the old file,
			// found changed once parsed.
			next := filepath.Join(dir, "next.json")
			if err := os.WriteFile(next, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(next, path); err != nil {
				t.Fatal(err)
			}
			return nil
		}
		return syscall.ESTALE
	}
	for _, whole := range []Whole{WholeNever, WholeAlways} {
		opens = 0
		c.write(path, a)
		c.now = c.now.Add(time.Hour)
		got, err := Ask(path, withFault(c.options(), inject), Query{URL: "https://b.example.com", Email: "bo@example.com", Whole: whole})
		if !errors.Is(err, ErrUnsafe) || !errors.Is(err, syscall.ESTALE) {
			t.Fatalf("whole %d: err %v, want ESTALE's", whole, err)
		}
		if opens < 2 {
			t.Fatalf("whole %d: opened %d times: the replaced file was not read again", whole, opens)
		}
		if got.Found || got.Session != (Session{}) || got.Whole != nil {
			t.Errorf("whole %d: answered %+v together with %v", whole, got, err)
		}
	}
	c.write(path, a)
	c.now = c.now.Add(time.Hour)
	opens = 0
	sess, found, err := Lookup(path, withFault(c.options(), inject), "https://b.example.com", "bo@example.com")
	if err == nil || found || sess != (Session{}) {
		t.Errorf("Lookup = %+v %v together with %v", sess, found, err)
	}
}
