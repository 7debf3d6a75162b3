package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
)

// sessionsOf builds sessions from "url email token minutes" lines: the
// token expires that many minutes after fixedNow.
func sessionsOf(t *testing.T, lines ...string) *Sessions {
	t.Helper()
	s := &Sessions{}
	for _, l := range lines {
		var url, email, token string
		var minutes int
		if _, err := fmt.Sscan(l, &url, &email, &token, &minutes); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		s.put(url, Session{URL: url, Email: email, Token: token, Expires: ExpiryFromTime(fixedNow.Add(time.Duration(minutes) * time.Minute))})
	}
	return s
}

// listOf lists s as "url email token" lines, in file order.
func listOf(s *Sessions) string {
	var b strings.Builder
	for _, sess := range s.All() {
		fmt.Fprintf(&b, "%s %s %s\n", sess.URL, sess.Email, sess.Token)
	}
	return b.String()
}

// TestMerge: what another program saved beyond what was read is added to
// the change, and nothing else is.
func TestMerge(t *testing.T) {
	const x = "https://x"
	tests := []struct {
		name               string
		base, next, theirs []string
		want               []string
		changed            bool
	}{
		{"their new session is added",
			[]string{x + " a@x A 60"}, []string{x + " a@x A 60", x + " ours@x O 60"},
			[]string{x + " a@x A 60", x + " w@x W 60"},
			[]string{x + " a@x A 60", x + " ours@x O 60", x + " w@x W 60"}, true},
		{"nothing new: unchanged",
			[]string{x + " a@x A 60"}, []string{x + " a@x A 60", x + " ours@x O 60"},
			[]string{x + " a@x A 60"},
			[]string{x + " a@x A 60", x + " ours@x O 60"}, false},
		{"their renewal of a session left alone replaces it in place",
			[]string{x + " a@x A 60", x + " b@x B 60"}, []string{x + " a@x A 60", x + " b@x B 60", x + " ours@x O 60"},
			[]string{x + " a@x A2 90", x + " b@x B 60"},
			[]string{x + " a@x A2 90", x + " b@x B 60", x + " ours@x O 60"}, true},
		{"a session erased stays erased against their stale copy",
			[]string{x + " a@x A 60", x + " b@x B 60"}, []string{x + " b@x B 60"},
			[]string{x + " a@x A 60", x + " b@x B 60", x + " w@x W 60"},
			[]string{x + " b@x B 60", x + " w@x W 60"}, true},
		{"a session erased stays erased against their older copy",
			[]string{x + " a@x A2 90"}, []string{},
			[]string{x + " a@x A 60"},
			[]string{}, false},
		{"their new login after an erase is kept",
			[]string{x + " a@x A 60"}, []string{},
			[]string{x + " a@x A2 90"},
			[]string{x + " a@x A2 90"}, true},
		{"our renewal beats their stale copy",
			[]string{x + " a@x A 60"}, []string{x + " a@x A2 90"},
			[]string{x + " a@x A 60", x + " w@x W 60"},
			[]string{x + " a@x A2 90", x + " w@x W 60"}, true},
		{"of two renewals the later expiry wins",
			[]string{x + " a@x A 60"}, []string{x + " a@x OURS 90"},
			[]string{x + " a@x THEIRS 120"},
			[]string{x + " a@x THEIRS 120"}, true},
		{"what they lack is not erased",
			[]string{x + " a@x A 60", x + " b@x B 60"}, []string{x + " a@x A 60", x + " b@x B 60", x + " ours@x O 60"},
			[]string{x + " w@x W 60"},
			[]string{x + " a@x A 60", x + " b@x B 60", x + " ours@x O 60", x + " w@x W 60"}, true},
		{"a new instance keeps their key; a known one is matched canonically",
			[]string{x + " a@x A 60"}, []string{x + " a@x A 60"},
			[]string{"https://X/ w@x W 60", "https://y:443/ v@y V 60"},
			[]string{x + " a@x A 60", x + " w@x W 60", "https://y:443/ v@y V 60"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := sessionsOf(t, tt.next...)
			before := listOf(next)
			got, changed := merge(sessionsOf(t, tt.base...), next, sessionsOf(t, tt.theirs...))
			if want := listOf(sessionsOf(t, tt.want...)); listOf(got) != want || changed != tt.changed {
				t.Errorf("merge = (changed %v)\n%swant (changed %v)\n%s", changed, listOf(got), tt.changed, want)
			}
			if listOf(next) != before {
				t.Error("merge changed its argument")
			}
		})
	}
}

// cstoolsSave does what cryosparc-tools' login does to the file at path:
// the sessions it loaded (loaded), plus one of its own, written in place
// (truncated, then written: the same file, no rename).
func cstoolsSave(t *testing.T, path string, loaded []byte, email string) {
	t.Helper()
	s, err := Parse(loaded, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(Session{URL: "https://cs.example.com", Email: email, Token: "tok-" + email, Expires: ExpiryFromTime(fixedNow.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(s.Marshal())
	f.Close()
}

// TestUpdateKeepsConcurrentSave: cryosparc-tools, which takes no lock,
// saves while an update is replacing the file: into the file being
// replaced, whole or still being written, into a file that did not exist,
// or over the new file after its rename. Its session and the update's
// must both be in the file afterwards, and a session the update erased
// stays erased.
func TestUpdateKeepsConcurrentSave(t *testing.T) {
	var writer *os.File // the file cryosparc-tools opened to save into
	const seed = `{"https://cs.example.com": {"a@x": {"token": {"access_token": "A", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	tests := []struct {
		name    string
		initial string // "" for no file
		erase   bool   // the update erases a@x instead of storing ours@x
		// race runs inside the change, after the read and before the
		// rename; onSleep at each of the update's pauses.
		race    func(t *testing.T, path string, loaded []byte)
		onSleep func(t *testing.T, path string, loaded []byte, d time.Duration, n int)
		want    []string // emails in the file at the end
	}{
		{name: "saved whole into the file being replaced", initial: seed,
			race: func(t *testing.T, path string, loaded []byte) { cstoolsSave(t, path, loaded, "w@x") },
			want: []string{"a@x", "ours@x", "w@x"}},
		{name: "truncated before the rename, written after it", initial: seed,
			race: func(t *testing.T, path string, loaded []byte) {
				var err error
				if writer, err = os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0); err != nil {
					t.Fatal(err)
				}
			},
			onSleep: func(t *testing.T, path string, loaded []byte, d time.Duration, n int) {
				if n == 20 { // while the update waits for it
					s, _ := Parse(loaded, fixedNow)
					s.Insert(Session{URL: "https://cs.example.com", Email: "w@x", Token: "W", Expires: ExpiryFromTime(fixedNow.Add(time.Hour))})
					writer.Write(s.Marshal())
					writer.Close()
				}
			},
			want: []string{"a@x", "ours@x", "w@x"}},
		{name: "created where there was none",
			race: func(t *testing.T, path string, loaded []byte) { cstoolsSave(t, path, []byte("{}"), "w@x") },
			want: []string{"ours@x", "w@x"}},
		{name: "an erase against a stale save", initial: seed, erase: true,
			race: func(t *testing.T, path string, loaded []byte) { cstoolsSave(t, path, loaded, "w@x") },
			want: []string{"w@x"}},
		{name: "a second save over the merged file", initial: seed,
			race: func(t *testing.T, path string, loaded []byte) { cstoolsSave(t, path, loaded, "w1@x") },
			onSleep: func(t *testing.T, path string, loaded []byte, d time.Duration, n int) {
				if now, _ := os.ReadFile(path); d == recheckAfter && !strings.Contains(string(now), "w2@x") {
					// Loaded before the rename that merged w1, saved after it.
					cstoolsSave(t, path, loaded, "w2@x")
				}
			},
			want: []string{"a@x", "ours@x", "w1@x", "w2@x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if tt.initial != "" {
				os.WriteFile(path, []byte(tt.initial), 0o600)
			}
			var loaded []byte
			n := 0
			opt := testOptions(t)
			opt.Sleep = func(d time.Duration) {
				n++
				if tt.onSleep != nil {
					tt.onSleep(t, path, loaded, d, n)
				}
			}
			err := Update(path, opt, func(s *Sessions) error {
				loaded, _ = os.ReadFile(path)
				if len(loaded) == 0 {
					loaded = []byte("{}")
				}
				tt.race(t, path, loaded)
				if tt.erase {
					s.Erase(Filter{URL: "https://cs.example.com", Email: "a@x"})
					return nil
				}
				return insertOne("https://cs.example.com", "ours@x", "O")(s)
			})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(path, testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sess := range s.All() {
				got = append(got, sess.Email)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("the file holds %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkUpdate stores one session into a file of 10,000: the whole
// read, change, write, flush and rename, with the look at the replaced
// file afterwards.
func BenchmarkUpdate(b *testing.B) {
	path := filepath.Join(b.TempDir(), "auth.json")
	_, data := benchFile(10000)
	os.WriteFile(path, data, 0o600)
	opt := &Options{LockTimeout: time.Second}
	for i := 0; b.Loop(); i++ {
		err := Update(path, opt, func(s *Sessions) error {
			_, err := s.Insert(Session{URL: "https://bench.example.com", Email: "u@x", Token: fmt.Sprint(i), Expires: ExpiryFromTime(time.Now().Add(time.Hour))})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpdateReplacedWhileHeld: when the file is replaced between the read
// and the rename (a writer that took over the lock of one stalled for
// longer than LockStaleAfter, or a program that takes none), what the
// other wrote is merged, not lost.
func TestUpdateReplacedWhileHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := Update(path, testOptions(t), insertOne("https://x", "first@x", "t0")); err != nil {
		t.Fatal(err)
	}
	err := Update(path, testOptions(t), func(s *Sessions) error {
		// Another writer renames its result over the file meanwhile.
		other := s.clone()
		other.Insert(Session{URL: "https://x", Email: "other@x", Token: "t1", Expires: ExpiryFromTime(fixedNow.Add(time.Hour))})
		tmp := path + ".other"
		if err := os.WriteFile(tmp, other.Marshal(), 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		return insertOne("https://x", "mine@x", "t2")(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(path, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"first@x", "other@x", "mine@x"} {
		if _, ok := s.Find("https://x", email); !ok {
			t.Errorf("%s was lost: %v", email, s.All())
		}
	}
}

// TestUpdateAllocatesLittle: a store into a file of 10,000 sessions
// written moments before (so read twice, and the replaced file read again
// after the rename) allocates less than 3 times the file's size: the
// bytes read, the replaced file's bytes read again, the sessions and their
// copy; never the whole of the bytes written (written in pieces), nor an
// index of every session (the record of recent writes indexes only the
// instances that changed). Before: 5.0 times. A run's garbage is never collected (the command line
// turns the collector off), so every byte allocated is a page touched.
func TestUpdateAllocatesLittle(t *testing.T) {
	data := sessiongen.SessionFile(10000, 100, time.Now().Add(30*24*time.Hour))
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, token := range []string{"first", "second", "third"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := Update(path, nil, put("https://cs7.example.com", "new@example.com", token, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(data))
		t.Logf("store %d: %.2f times the file's size allocated", i+1, ratio)
		// The first store also reads the file to check it before it
		// creates the lock file beside it.
		if i > 0 && ratio >= 3 {
			t.Errorf("store %d allocated %.2f times the file's size, want less than 3", i+1, ratio)
		}
	}
}

// TestReplacedRereadStale: the file server answering ESTALE to the re-read
// of the replaced file is read again, as every read is (NFS): once, the
// store succeeds; every time, it fails (ErrUnsafe) saying the file was
// written but the one it replaced could not be read again.
func TestReplacedRereadStale(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stales int // how many rereads answer ESTALE
		fails  bool
	}{
		{"once", 1, false},
		{"every time", 1 << 30, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if err := Save(path, testOptions(t), sessionsOf(t, "https://a.example.com seed@x t1 60")); err != nil {
				t.Fatal(err)
			}
			rereads := 0
			opt := withFault(testOptions(t), func(op string) error {
				if op == "reread" {
					if rereads++; rereads <= tt.stales {
						return syscall.ESTALE
					}
				}
				return nil
			})
			err := Update(path, opt, func(s *Sessions) error {
				_, err := s.Insert(Session{URL: "https://a.example.com", Email: "new@x", Token: "t2", Expires: ExpiryFromTime(fixedNow.Add(time.Hour))})
				return err
			})
			if rereads < 2 {
				t.Fatalf("%d rereads: the stale one was not read again", rereads)
			}
			switch {
			case tt.fails && (!errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "could not be read again")):
				t.Errorf("Update = %v, want ErrUnsafe: could not be read again", err)
			case !tt.fails && err != nil:
				t.Errorf("Update = %v, want nil", err)
			}
			s, lerr := Load(path, testOptions(t))
			if _, ok := s.Find("https://a.example.com", "new@x"); lerr != nil || !ok {
				t.Errorf("the new session is not in the file: %v", lerr)
			}
		})
	}
}
