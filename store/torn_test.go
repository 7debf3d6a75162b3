package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeClock is a clock whose Sleep moves it: torn-file waits without
// waiting.
type fakeClock struct {
	t      time.Time
	sleeps int
	onTick func(n int) // called at each sleep, with its number
}

func (c *fakeClock) options() *Options {
	return &Options{Now: func() time.Time { return c.t }, LockTimeout: time.Second, Sleep: func(d time.Duration) {
		c.sleeps++
		c.t = c.t.Add(d)
		if c.onTick != nil {
			c.onTick(c.sleeps)
		}
	}}
}

const whole = `{
    "https://python.example.com": {
        "py@example.com": {
            "token": {
                "access_token": "py-token",
                "token_type": "bearer"
            },
            "expires": "2099-01-01T00:00:00Z"
        }
    }
}`

// TestTornFileIsWaitedFor: a file caught empty or cut short is read again
// until the writer finishes; a store made meanwhile keeps the writer's
// sessions and its own.
func TestTornFileIsWaitedFor(t *testing.T) {
	for _, prefix := range []string{"", whole[:len(whole)/3], whole[:len(whole)-1]} {
		path := filepath.Join(t.TempDir(), "auth.json")
		os.WriteFile(path, []byte(prefix), 0o600)
		c := &fakeClock{t: time.Now()}
		c.onTick = func(n int) {
			if n == 50 { // the writer finishes after a while
				os.WriteFile(path, []byte(whole), 0o600)
			}
		}
		err := Update(path, c.options(), func(s *Sessions) error {
			_, err := s.Insert(Session{URL: "https://go.example.com", Email: "go@x", Token: "go", Expires: ExpiryFromTime(time.Now().Add(time.Hour))})
			return err
		})
		if err != nil {
			t.Fatalf("prefix of %d bytes: %v", len(prefix), err)
		}
		s, err := Load(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Find("https://python.example.com", "py@example.com"); !ok {
			t.Errorf("prefix of %d bytes: the writer's session was lost", len(prefix))
		}
		if _, ok := s.Find("https://go.example.com", "go@x"); !ok {
			t.Errorf("prefix of %d bytes: the stored session was lost", len(prefix))
		}
	}
}

// TestTornFileAbandoned: a torn file left alone for AbandonAfter is taken
// as it is: empty, no sessions; cut short, invalid JSON (never "not
// found" before that).
func TestTornFileAbandoned(t *testing.T) {
	for _, tt := range []struct {
		content   string
		truncated bool
	}{{"", false}, {whole[:len(whole)/2], true}} {
		path := filepath.Join(t.TempDir(), "auth.json")
		os.WriteFile(path, []byte(tt.content), 0o600)
		c := &fakeClock{t: time.Now()}
		start := c.t
		_, found, err := Lookup(path, c.options(), "https://python.example.com", "")
		waited := c.t.Sub(start)
		if waited < AbandonAfter || waited > AbandonAfter+100*time.Millisecond {
			t.Errorf("%d bytes: answered after %s of waiting, want %s", len(tt.content), waited, AbandonAfter)
		}
		var inv *InvalidError
		if tt.truncated != (errors.As(err, &inv) && inv.Truncated()) || found {
			t.Errorf("%d bytes: found %v, err %v", len(tt.content), found, err)
		}
		if c.sleeps > 200 {
			t.Errorf("%d reads in %s", c.sleeps, waited)
		}
	}
}

// TestTornFileKeepsChanging: a file that stays torn while it keeps changing
// gives ErrBusy after MaxWait, never "no sessions".
func TestTornFileKeepsChanging(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, nil, 0o600)
	c := &fakeClock{t: time.Now()}
	c.onTick = func(n int) { os.WriteFile(path, []byte(whole[:n%len(whole)]), 0o600) }
	_, _, err := Lookup(path, c.options(), "", "")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Lookup = %v, want ErrBusy", err)
	}
}

// TestOldTornFileNotTakenAtFirstLook: an empty file whose times are long
// past, as ext4 shows one for milliseconds while a save truncates it, is
// not taken for an abandoned write at the first look: the reader looks
// again, and answers with what the save then wrote.
func TestOldTornFileNotTakenAtFirstLook(t *testing.T) {
	if testing.Short() {
		t.Skip("waits AbandonAfter in real time, for the file's times to be old")
	}
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, nil, 0o600)
	fi, _ := os.Stat(path)
	// Old enough, by its times, for the rule this replaced to take it.
	time.Sleep(AbandonAfter + versionOf(fi, nil).resolution() + 100*time.Millisecond)
	c := &fakeClock{t: time.Now()}
	// The save's write lands while the reader waits.
	c.onTick = func(n int) {
		if n == 1 {
			os.WriteFile(path, []byte(whole), 0o600)
		}
	}
	sess, found, err := Lookup(path, c.options(), "", "")
	if err != nil || !found || sess.Token == "" {
		t.Fatalf("Lookup = %+v, %v, %v: the empty file was taken at first look", sess, found, err)
	}
	if c.sleeps == 0 {
		t.Error("an old empty file was answered without a second look")
	}
}
