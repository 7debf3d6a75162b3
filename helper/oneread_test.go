package helper

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestMissWaitsOnce: a miss in an empty file left alone long ago (an
// abandoned write) is explained from the one read that found nothing: the
// command waits AbandonAfter once, not once more to say why (nor, for exec,
// once more to check the file).
func TestMissWaitsOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  func(h *Commands) error
	}{
		{"token", func(h *Commands) error { _, err := h.Live("", "ali@example.com", 0); return err }},
		{"get", func(h *Commands) error {
			return withIO(h, strings.NewReader("url=https://cryosparc.example.com\nemail=ali@example.com\n"), &bytes.Buffer{}).Get()
		}},
		{"exec", func(h *Commands) error { _, err := h.ForCryoSPARC("", "", 0); return err }},
		{"token on a terminal", func(h *Commands) error {
			h.IO.ErrTTY = true
			_, err := h.Live("", "", 0)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			var slept time.Duration
			h := &Commands{Path: path, IO: IOStreams{ErrOut: &bytes.Buffer{}}, Options: store.Options{
				Now:   func() time.Time { return now },
				Sleep: func(d time.Duration) { slept += d },
			}}
			err := tt.run(h)
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "holds no session") {
				t.Fatalf("err %v, want not found in a file that holds no session", err)
			}
			if slept < store.AbandonAfter || slept >= 2*store.AbandonAfter {
				t.Errorf("waited %s for the abandoned file, want AbandonAfter (%s) once", slept, store.AbandonAfter)
			}
		})
	}
}

// TestSayChosenCountsLiveSessions: the note on which session was chosen
// counts what cryosparc-tools could choose, live sessions only, although
// the file read for it holds the expired ones too.
func TestSayChosenCountsLiveSessions(t *testing.T) {
	const file = `{
    "https://cryosparc.example.com": {
        "ali@example.com": {"token": {"access_token": "ali-token", "token_type": "bearer"}, "expires": "2099-01-31T12:00:00Z"},
        "bo@example.com": {"token": {"access_token": "bo-token", "token_type": "bearer"}, "expires": "2020-01-31T12:00:00Z"}
    },
    "http://lab:39000": {
        "ali@example.com": {"token": {"access_token": "lab-token", "token_type": "bearer"}, "expires": "2020-03-01T00:00:00Z"}
    }
}`
	h, stderr := newHelper(t, file)
	h.IO.ErrTTY = true
	sess, err := h.Live("", "", 0)
	if err != nil || sess.Token != "ali-token" {
		t.Fatalf("Live = %+v, %v", sess, err)
	}
	if strings.Contains(stderr.String(), "using the session of") {
		t.Errorf("one live session, yet: %q", stderr)
	}
}

// TestDoctorFixReportsWhatItRead: doctor --fix reports from the one read
// of its repair (or from what the repair wrote), and that report is the
// one doctor gives on the file right after: the lines after the repair's
// own, and the error, are the same.
func TestDoctorFixReportsWhatItRead(t *testing.T) {
	const (
		live    = `"ali@x": {"token": {"access_token": "ali", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}`
		expired = `"old@x": {"token": {"access_token": "old", "token_type": "bearer"}, "expires": "2020-01-01T00:00:00Z"}`
		broken  = `"bad@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-13-01"}`
		lineBrk = `"brk@x": {"token": {"access_token": "a\nb", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}`
	)
	for _, tt := range []struct {
		name, content string // "" for no file
		mode          os.FileMode
		force         bool
		rewritten     bool
		unhealthy     bool // after the repair too
	}{
		{name: "an expired session", content: `{"https://a": {` + live + `, ` + expired + `}}`, mode: 0o600, rewritten: true},
		{name: "readable by others", content: `{"https://a": {` + live + `}}`, mode: 0o644, rewritten: true},
		{name: "a rejected entry", content: `{"https://a": {` + live + `, ` + broken + `}}`, mode: 0o600, rewritten: true},
		{name: "not JSON, forced", content: `this is not json`, mode: 0o600, force: true, rewritten: true},
		{name: "a token no line can carry", content: `{"https://a": {` + live + `, ` + lineBrk + `}}`, mode: 0o600, rewritten: true, unhealthy: true},
		{name: "no file", mode: 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHelper(t, tt.content)
			if tt.content != "" {
				if err := os.Chmod(h.Path, tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			var fixed, after bytes.Buffer
			fixErr := withIO(h, nil, &fixed).Doctor(DoctorQuery{Fix: true, Force: tt.force})
			afterErr := withIO(h, nil, &after).Doctor(DoctorQuery{})
			report := fixed.String()
			if tt.rewritten {
				var cut bool
				if _, report, cut = strings.Cut(report, "Rewrote "+h.Path+" with its valid part.\n"); !cut || !strings.HasPrefix(fixed.String(), "Kept the original as ") {
					t.Fatalf("doctor --fix did not say it repaired:\n%s", fixed.String())
				}
			}
			if report != after.String() {
				t.Errorf("doctor --fix reported\n%s\ndoctor right after\n%s", report, after.String())
			}
			if fmt.Sprint(fixErr) != fmt.Sprint(afterErr) || (fixErr != nil) != tt.unhealthy {
				t.Errorf("doctor --fix: %v; doctor right after: %v; want an error: %v", fixErr, afterErr, tt.unhealthy)
			}
		})
	}
	// With nothing to repair, what the repair read is the report.
	h, _ := newHelper(t, `{"https://a": {`+live+`}}`)
	if err := h.Doctor(DoctorQuery{Fix: true}); err != nil {
		t.Fatal(err)
	}
	var fixed, after bytes.Buffer
	if err := withIO(h, nil, &fixed).Doctor(DoctorQuery{Fix: true}); err != nil || strings.Contains(fixed.String(), "Rewrote") {
		t.Fatalf("doctor --fix of a repaired file: %v\n%s", err, fixed.String())
	}
	withIO(h, nil, &after).Doctor(DoctorQuery{})
	if fixed.String() != after.String() || !strings.Contains(after.String(), "1 live session(s), 0 expired") {
		t.Errorf("doctor --fix reported\n%s\ndoctor right after\n%s", fixed.String(), after.String())
	}
}

// TestLogoutRefusedBeforeItLooks: logout chooses its session in the file
// read under the lock; when the read or the lock is refused before that
// (entries cryosparc-tools rejects, another process's lock), a session
// the file's valid entries do not hold is still nothing to erase (exit 0,
// "nothing erased"), and one they hold gets the refusal; warnings come
// only from a write that is made or refused, each once.
func TestLogoutRefusedBeforeItLooks(t *testing.T) {
	const (
		valid    = `{"https://a": {"ali@x": {"token": {"access_token": "ali", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
		rejected = `{"https://a": {"ali@x": {"token": {"access_token": "ali", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
 "bad@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-13-01"}}}`
	)
	for _, tt := range []struct {
		name, content string
		mode          os.FileMode
		locked        bool // another process holds the lock
		q             LogoutQuery
		err           error // nil: none
		erased        bool
		stderr        []string // each contained in stderr once
		warnings      int
	}{
		{name: "rejected entries, not there", content: rejected, mode: 0o600, q: LogoutQuery{Email: "nobody@x"}, stderr: []string{"nothing erased"}},
		{name: "rejected entries, the entry rejected", content: rejected, mode: 0o600, q: LogoutQuery{Email: "bad@x"}, stderr: []string{"nothing erased"}},
		{name: "rejected entries, there", content: rejected, mode: 0o600, q: LogoutQuery{Email: "ali@x"}, err: store.ErrInvalid},
		{name: "rejected entries, --all", content: rejected, mode: 0o600, q: LogoutQuery{All: true, Yes: true}, err: store.ErrInvalid,
			stderr: []string{"using the valid entries"}, warnings: 1},
		{name: "locked, not there", content: valid, mode: 0o600, locked: true, q: LogoutQuery{Email: "nobody@x"}, stderr: []string{"nothing erased"}},
		{name: "locked, there", content: valid, mode: 0o600, locked: true, q: LogoutQuery{Email: "ali@x"}, err: store.ErrLockTimeout},
		{name: "readable by others, not there", content: valid, mode: 0o644, q: LogoutQuery{Email: "nobody@x"}, stderr: []string{"nothing erased"}},
		{name: "readable by others, there", content: valid, mode: 0o644, q: LogoutQuery{Email: "ali@x"}, erased: true,
			stderr: []string{"has permissions 0644"}, warnings: 1},
		{name: "readable by others, --all", content: valid, mode: 0o644, q: LogoutQuery{All: true, Yes: true}, erased: true,
			stderr: []string{"has permissions 0644"}, warnings: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, stderr := newHelper(t, tt.content)
			if err := os.Chmod(h.Path, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.locked {
				held, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
				go func() {
					done <- store.Update(h.Path, &store.Options{LockTimeout: time.Minute}, func(*store.Sessions) error {
						close(held)
						<-release
						return store.ErrNoChange
					})
				}()
				<-held
				defer func() { close(release); <-done }()
				h.Options.LockTimeout = 0 // tried once
			}
			var out bytes.Buffer
			err := withIO(h, nil, &out).Logout(tt.q)
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Logout = %v, want %v", err, tt.err)
			}
			if erased := strings.Contains(out.String(), "Erased 1 session(s)"); erased != tt.erased {
				t.Errorf("erased %v (%q), want %v", erased, out.String(), tt.erased)
			}
			for _, want := range tt.stderr {
				if strings.Count(stderr.String(), want) != 1 {
					t.Errorf("stderr %q holds %q %d times, want once", stderr, want, strings.Count(stderr.String(), want))
				}
			}
			if n := strings.Count(stderr.String(), "warning:"); n != tt.warnings {
				t.Errorf("%d warnings, want %d: %q", n, tt.warnings, stderr)
			}
			if data, _ := os.ReadFile(h.Path); (string(data) != tt.content) != tt.erased {
				t.Errorf("the file changed: %v, want %v", string(data) != tt.content, tt.erased)
			}
		})
	}
}

// TestLogoutOfNothingWaitsForNoLock: while another process holds the lock
// for a long time, a logout of a session the file does not hold says
// "nothing erased" without waiting for that lock (as before it took the
// lock), and a logout of one it holds waits for it and erases it.
func TestLogoutOfNothingWaitsForNoLock(t *testing.T) {
	const valid = `{"https://x": {"ali@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	h, stderr := newHelper(t, valid)
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- store.Update(h.Path, &store.Options{LockTimeout: time.Minute}, func(*store.Sessions) error {
			close(held)
			<-release
			return store.ErrNoChange
		})
	}()
	<-held
	h.Options.LockTimeout = time.Hour
	logout := func(email string) <-chan error {
		c := make(chan error, 1)
		go func() { c <- withIO(h, nil, io.Discard).Logout(LogoutQuery{Email: email}) }()
		return c
	}
	select {
	case err := <-logout("nobody@x"):
		if err != nil || !strings.Contains(stderr.String(), "nothing erased") {
			t.Errorf("Logout of nothing = %v, stderr %q; want nil and nothing erased", err, stderr)
		}
	case <-time.After(time.Minute): // the holder holds on for the hour the logout would wait
		t.Fatal("a logout of a session not there waited for another process's lock")
	}
	there := logout("ali@x")
	select {
	case err := <-there:
		t.Fatalf("a logout of a session there did not wait for the lock: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-there; err != nil {
		t.Fatalf("Logout after the lock was released: %v", err)
	}
	if s, err := store.Load(h.Path, nil); err != nil || s.Len() != 0 {
		t.Errorf("after the logout: %v sessions, %v; want none", s.Len(), err)
	}
}
