package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// staleSave writes data over path in place, as cryosparc-tools' save does
// with what it loaded before.
func staleSave(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func put(url, email, token string, exp time.Time) func(*Sessions) error {
	return func(s *Sessions) error {
		_, err := s.Insert(Session{URL: url, Email: email, Token: token, Expires: ExpiryFromTime(exp)})
		return err
	}
}

func tokenOf(t *testing.T, path, url, email string) (string, bool) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(raw, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sess, ok := s.Find(url, email)
	return sess.Token, ok
}

// TestStaleSaveRestored: a write of this program's that a save of what was
// loaded before it then overwrote is answered by the next command and put
// back into the file; the same for an erase that a stale save undid; a
// newer login by another program is never replaced.
func TestStaleSaveRestored(t *testing.T) {
	const url = "https://cs.example.com"
	exp := time.Now().Add(24 * time.Hour)
	for _, tt := range []struct {
		name string
		// before is written first, by this program; the stale save
		// writes the file as it was after before; then ours changes it.
		before, ours func(*Sessions) error
		// other, when set, is a newer write by another program after the
		// stale save.
		other         func(*Sessions) error
		email         string
		want          string // the token the next reader must see; "" for none
		readers       []string
		wantRestored  bool
		wantRemaining bool
	}{
		{name: "new session dropped", before: put(url, "seed@x", "seed", exp), ours: put(url, "a@x", "ours", exp), email: "a@x", want: "ours"},
		{name: "replaced session reverted", before: put(url, "a@x", "old", exp), ours: put(url, "a@x", "new", exp), email: "a@x", want: "new"},
		{name: "erased session brought back", before: put(url, "a@x", "old", exp), ours: func(s *Sessions) error { s.Erase(Filter{URL: url, Email: "a@x"}); return nil }, email: "a@x", want: ""},
		{name: "newer login kept", before: put(url, "a@x", "old", exp), ours: put(url, "a@x", "new", exp), other: put(url, "a@x", "python", exp.Add(-time.Hour)), email: "a@x", want: "python"},
		{name: "newer login after erase kept", before: put(url, "a@x", "old", exp), ours: func(s *Sessions) error { s.Erase(Filter{URL: url, Email: "a@x"}); return nil }, other: put(url, "a@x", "python", exp.Add(-time.Hour)), email: "a@x", want: "python"},
	} {
		for _, reader := range []string{"Lookup", "Load", "Update"} {
			t.Run(tt.name+"/"+reader, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "auth.json")
				if err := Update(path, nil, tt.before); err != nil {
					t.Fatal(err)
				}
				loaded, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := Update(path, nil, tt.ours); err != nil {
					t.Fatal(err)
				}
				staleSave(t, path, loaded)
				if tt.other != nil {
					s, err := loadFile(path, nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := tt.other(s); err != nil {
						t.Fatal(err)
					}
					staleSave(t, path, s.Marshal())
				}
				var got string
				var found bool
				switch reader {
				case "Lookup":
					var sess Session
					sess, found, err = Lookup(path, nil, url, tt.email)
					got = sess.Token
				case "Load":
					var s *Sessions
					s, err = Load(path, nil)
					if err == nil {
						var sess Session
						sess, found = s.Find(url, tt.email)
						got = sess.Token
					}
				case "Update":
					err = Update(path, nil, put(url, "unrelated@x", "u", exp))
					got, found = tokenOf(t, path, url, tt.email)
				}
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want || found != (tt.want != "") {
					t.Errorf("%s answered %q (found %v), want %q", reader, got, found, tt.want)
				}
				// The file itself holds it now, for cryosparc-tools too.
				if got, found := tokenOf(t, path, url, tt.email); got != tt.want || found != (tt.want != "") {
					t.Errorf("the file holds %q (found %v) after %s, want %q", got, found, reader, tt.want)
				}
				if _, found := tokenOf(t, path, url, "seed@x"); tt.name == "new session dropped" && !found {
					t.Error("the stale save's own session was lost")
				}
			})
		}
	}
}

// TestRecentRecordIsPrivate: the record is a 0600 file beside the session
// file; one that others may write is not believed.
func TestRecentRecordIsPrivate(t *testing.T) {
	const url = "https://cs.example.com"
	exp := time.Now().Add(time.Hour)
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := Update(path, nil, put(url, "seed@x", "seed", exp)); err != nil {
		t.Fatal(err)
	}
	loaded, _ := os.ReadFile(path)
	if err := Update(path, nil, put(url, "a@x", "ours", exp)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(recentPath(path))
	if err != nil {
		t.Fatalf("no record of the write: %v", err)
	}
	if !safefile.IsWindows() && fi.Mode().Perm() != 0o600 {
		t.Errorf("record mode %#o, want 0600", fi.Mode().Perm())
	}
	staleSave(t, path, loaded)
	os.Chmod(recentPath(path), 0o666)
	var warned []string
	_, found, err := Lookup(path, &Options{Warn: func(m string) { warned = append(warned, m) }}, url, "a@x")
	if err != nil || found {
		t.Errorf("a record others may write was believed: found %v, %v", found, err)
	}
	if safefile.IsWindows() {
		return
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "not a private file") {
		t.Errorf("warnings %q", warned)
	}
}

// TestRecentRecordForgets: writes older than RecentKeep are not restored,
// and the record is removed once it holds none.
func TestRecentRecordForgets(t *testing.T) {
	const url = "https://cs.example.com"
	now := time.Now()
	clock := &now
	opt := &Options{Now: func() time.Time { return *clock }}
	exp := now.Add(24 * time.Hour)
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := Update(path, opt, put(url, "seed@x", "seed", exp)); err != nil {
		t.Fatal(err)
	}
	loaded, _ := os.ReadFile(path)
	if err := Update(path, opt, put(url, "a@x", "ours", exp)); err != nil {
		t.Fatal(err)
	}
	staleSave(t, path, loaded)
	later := now.Add(RecentKeep + time.Second)
	clock = &later
	if _, found, err := Lookup(path, opt, url, "a@x"); err != nil || found {
		t.Errorf("a write older than RecentKeep was restored: found %v, %v", found, err)
	}
	if err := Update(path, opt, put(url, "b@x", "b", exp)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(recentPath(path))
	if err != nil {
		t.Fatal(err)
	}
	var rf recentFile
	if err := json.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	if len(rf.Writes) != 1 || rf.Writes[0].Email != "b@x" {
		t.Errorf("record holds %+v, want only b@x's write", rf.Writes)
	}
}

// TestNotedKeepsReplacedTokens: a second write of the same instance and
// email keeps the tokens the first replaced, and the first's own, so that
// a save that loaded before either is found.
func TestNotedKeepsReplacedTokens(t *testing.T) {
	first := recentWrite{URL: "u", Email: "e", Token: "t1", Replaced: []string{tokenSum("t0")}}
	second := recentWrite{URL: "u", Email: "e", Token: "t2", Replaced: []string{tokenSum("t1")}}
	got := noted([]recentWrite{first}, []recentWrite{second})
	if len(got) != 1 || got[0].Token != "t2" {
		t.Fatalf("noted = %+v", got)
	}
	for _, tok := range []string{"t0", "t1"} {
		if !slices.Contains(got[0].Replaced, tokenSum(tok)) {
			t.Errorf("%s not among the replaced tokens", tok)
		}
	}
	s := &Sessions{}
	s.put("u", Session{Email: "e", Token: "t0", Expires: ExpiryFromTime(time.Now().Add(time.Hour))})
	got[0].ExpiresUS = time.Now().Add(time.Hour).UnixMicro()
	if !restoreDropped(s, got, time.Now()) {
		t.Fatal("a save of t0, loaded before both writes, was not found")
	}
	if sess, _ := s.Find("u", "e"); sess.Token != "t2" {
		t.Errorf("restored %q, want t2", sess.Token)
	}
}

// FuzzParseRecent: any bytes give writes that are usable or an error,
// never a panic, and what parses writes back the same.
func FuzzParseRecent(f *testing.F) {
	for _, s := range []string{"", "{}", `{"version":1,"writes":[]}`, `{"version":1,"writes":[{"url":"u","email":"e","token":"t","expires_us":1,"at":"2026-01-01T00:00:00Z"}]}`, `{"version":1,"writes":[{"url":"u","email":"e","erased":true,"replaced":["ab"],"at":"2026-01-01T00:00:00Z"}]}`, `{"version":2}`, `{"version":1,"writes":[{"url":"\ud800"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		writes, err := parseRecent(data)
		if err != nil {
			return
		}
		for _, w := range writes {
			if w.URL == "" {
				t.Fatalf("an unusable write was accepted: %+v", w)
			}
		}
		again, err := json.Marshal(recentFile{Version: 1, Writes: writes})
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseRecent(again)
		if err != nil || len(back) != len(writes) {
			t.Fatalf("written back: %v, %d writes, want %d", err, len(back), len(writes))
		}
	})
}

// TestWriteNeverPastSizeLimit: a change that would make the file larger
// than a reader accepts is refused (ErrUnsafe: exit 3), and the file is
// left as it was, readable.
func TestWriteNeverPastSizeLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	exp := time.Now().Add(time.Hour)
	if err := Update(path, nil, put("https://cs.example.com", "a@x", "a", exp)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	opt := &Options{maxSize: len(before) + 250}
	err := Update(path, opt, put("https://cs.example.com", "b@x", strings.Repeat("b", 300), exp))
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("Update past the limit = %v, want ErrUnsafe", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Error("the file changed")
	}
	if err := Update(path, opt, put("https://cs.example.com", "c@x", "c", exp)); err != nil {
		t.Errorf("a change within the limit: %v", err)
	}
}

// TestRemovedFileNotRestored: a session file removed on purpose is not
// made again from the record by a reader, and a new file made by a store
// holds nothing of the record.
func TestRemovedFileNotRestored(t *testing.T) {
	const url = "https://cs.example.com"
	exp := time.Now().Add(time.Hour)
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := Update(path, nil, put(url, "a@x", "ours", exp)); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if _, found, err := Lookup(path, nil, url, "a@x"); err != nil || found {
		t.Errorf("Lookup after rm = found %v, %v", found, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a reader made the removed file again")
	}
	if err := Update(path, nil, put(url, "b@x", "b", exp)); err != nil {
		t.Fatal(err)
	}
	if _, found := tokenOf(t, path, url, "a@x"); found {
		t.Error("a store into a new file brought back a session of the removed one")
	}
}

// TestRestoreExactKey: two keys that are one URL in canonical form; the
// write dropped from one is restored under that key, not found in the
// other.
func TestRestoreExactKey(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	path := filepath.Join(t.TempDir(), "auth.json")
	s := &Sessions{}
	s.put("http://Host:61000", Session{Email: "u@x", Token: "T1", Expires: ExpiryFromTime(exp)})
	s.put("http://host:61000/", Session{Email: "u@x", Token: "T2", Expires: ExpiryFromTime(exp)})
	if err := os.WriteFile(path, s.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Update(path, nil, func(s *Sessions) error {
		s.putExact("http://host:61000/", Session{Email: "u@x", Token: "OURS", Expires: ExpiryFromTime(exp)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stale := &Sessions{}
	stale.put("http://Host:61000", Session{Email: "u@x", Token: "T1", Expires: ExpiryFromTime(exp)})
	staleSave(t, path, stale.Marshal())
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sess, ok := got.exact("http://host:61000/", "u@x"); !ok || sess.Token != "OURS" {
		t.Errorf("under the exact key: %+v %v, want OURS", sess, ok)
	}
	if sess, _ := got.exact("http://Host:61000", "u@x"); sess.Token != "T1" {
		t.Errorf("the other key holds %q, want T1", sess.Token)
	}
}

// changesEveryKey is changes as it was written before it indexed only the
// instances that differ: every session of both sides in a map. The
// reference TestChangesMatchesEveryKey holds changes to.
func changesEveryKey(before, after *Sessions, now time.Time) []recentWrite {
	type key struct{ url, email string }
	index := func(s *Sessions) map[key]string {
		m := make(map[key]string, s.Len())
		for _, in := range s.instances {
			for _, sess := range in.sessions {
				m[key{in.url, sess.Email}] = sess.Token
			}
		}
		return m
	}
	was, is := index(before), index(after)
	var out []recentWrite
	for _, in := range after.instances {
		for _, sess := range in.sessions {
			w := recentWrite{URL: in.url, Email: sess.Email, Token: sess.Token, ExpiresUS: sess.Expires.UnixMicro(), OffsetMin: sess.Expires.OffsetMin(), At: now}
			if token, ok := was[key{in.url, sess.Email}]; ok {
				if token == sess.Token {
					continue
				}
				w.Replaced = []string{tokenSum(token)}
			}
			out = append(out, w)
		}
	}
	for _, in := range before.instances {
		for _, sess := range in.sessions {
			if _, ok := is[key{in.url, sess.Email}]; !ok {
				out = append(out, recentWrite{URL: in.url, Email: sess.Email, Erased: true, Replaced: []string{tokenSum(sess.Token)}, At: now})
			}
		}
	}
	return out
}

// TestChangesMatchesEveryKey: changes, which indexes only the instances
// whose sessions differ, finds exactly the writes (the same, in the same
// order) that indexing every session of both sides finds, for every kind
// of change a command or a merge makes, on files parsed from random
// shapes (duplicates settled) and on sessions built by Insert.
func TestChangesMatchesEveryKey(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	now := time.Now()
	exp := func() Expiry { return ExpiryFromTime(now.Add(time.Duration(1+r.Intn(1000)) * time.Hour)) }
	url := func() string { return fmt.Sprintf("https://cs%d.example.com", r.Intn(6)) }
	email := func() string { return fmt.Sprintf("u%d@x", r.Intn(8)) }
	pick := func(s *Sessions) (string, Session, bool) {
		for _, in := range s.instances {
			if len(in.sessions) > 0 && r.Intn(3) == 0 {
				return in.url, in.sessions[r.Intn(len(in.sessions))], true
			}
		}
		return "", Session{}, false
	}
	for _, tt := range []struct {
		name   string
		change func(s *Sessions)
	}{
		{"nothing", func(*Sessions) {}},
		{"insert", func(s *Sessions) {
			s.Insert(Session{URL: url(), Email: email(), Token: fmt.Sprint("new", r.Intn(4)), Expires: exp()})
		}},
		{"same token, new expiry", func(s *Sessions) {
			if u, sess, ok := pick(s); ok {
				sess.Expires = exp()
				s.putExact(u, sess)
			}
		}},
		{"new instance", func(s *Sessions) {
			s.put(fmt.Sprintf("https://new%d.example.com", r.Intn(1000)), Session{Email: email(), Token: "t", Expires: exp()})
		}},
		{"erase email", func(s *Sessions) { s.Erase(Filter{Email: email()}) }},
		{"erase instance", func(s *Sessions) { s.Erase(Filter{URL: url()}) }},
		{"erase exact", func(s *Sessions) {
			if u, sess, ok := pick(s); ok {
				s.eraseExact(u, sess.Email)
			}
		}},
		{"everything erased", func(s *Sessions) { *s = Sessions{} }},
		{"several", func(s *Sessions) {
			for range 1 + r.Intn(5) {
				s.Insert(Session{URL: url(), Email: email(), Token: fmt.Sprint("t", r.Intn(3)), Expires: exp()})
				s.Erase(Filter{URL: url(), Email: email()})
			}
		}},
		{"merged", func(s *Sessions) {
			theirs, _ := Parse([]byte(randomFile(r, 0)), now)
			*s = *s.clone()
			merged, _ := merge(s.clone(), s, theirs)
			*s = *merged
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 300 {
				var s *Sessions
				if i%2 == 0 {
					s, _ = Parse([]byte(randomFile(r, 0.1)), now)
				} else {
					s = &Sessions{}
					for range r.Intn(30) {
						s.Insert(Session{URL: url(), Email: email(), Token: fmt.Sprint("t", r.Intn(3)), Expires: exp()})
					}
				}
				base := s.clone()
				tt.change(s)
				got, want := changes(base, s, now), changesEveryKey(base, s, now)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d: changes = %+v, every key gives %+v", i, got, want)
				}
				if same := changes(s, s, now); same != nil {
					t.Fatalf("round %d: changes of a version to itself = %+v", i, same)
				}
			}
		})
	}
}
