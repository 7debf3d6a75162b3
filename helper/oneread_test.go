package helper

import (
	"bytes"
	"errors"
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
			return h.Get(strings.NewReader("url=https://cryosparc.example.com\nemail=ali@example.com\n"), &bytes.Buffer{})
		}},
		{"exec", func(h *Commands) error { _, err := h.ForCryoSPARC("", "", 0); return err }},
		{"token on a terminal", func(h *Commands) error {
			h.StderrIsTerminal = true
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
			h := &Commands{Path: path, Stderr: &bytes.Buffer{}, Options: store.Options{
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
	h.StderrIsTerminal = true
	sess, err := h.Live("", "", 0)
	if err != nil || sess.Token != "ali-token" {
		t.Fatalf("Live = %+v, %v", sess, err)
	}
	if strings.Contains(stderr.String(), "using the session of") {
		t.Errorf("one live session, yet: %q", stderr)
	}
}
