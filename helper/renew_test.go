package helper

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// TestRenewRefusalHold: after the server refused a renewal's password,
// renewals of that session neither ask for the password nor send it for
// 15 minutes (errkind.Login), other sessions go on, --force sends it, and
// after the hold a renewal sends it again.
func TestRenewRefusalHold(t *testing.T) {
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "right", "Ali")
	cs.AddUser("bob@example.com", "right", "Bob")
	now := time.Now()
	h := &Commands{Path: filepath.Join(t.TempDir(), "auth.json")}
	h.Options.Now = func() time.Time { return now }
	asked := 0
	renew := func(email, password string, force bool) error {
		return h.Renew(RenewQuery{LoginQuery: LoginQuery{URL: cs.URL, Email: email, Timeout: time.Minute},
			Within: 3 * 24 * time.Hour, Force: force,
			Password: func() (string, error) { asked++; return password, nil }})
	}
	steps := []struct {
		name         string
		after        time.Duration // since the step before
		email, pw    string
		force        bool
		logins, asks int    // totals after the step
		err          string // "" for success
	}{
		{"refused", 0, "ali@example.com", "wrong", false, 1, 1, "refused the login"},
		{"held 14 minutes on", 14 * time.Minute, "ali@example.com", "right", false, 1, 1, "renewals do not send it again"},
		{"another session goes on", 0, "bob@example.com", "right", false, 2, 2, ""},
		{"--force sends it", 0, "ali@example.com", "wrong", true, 3, 3, "refused the login"},
		{"held again from then", 14 * time.Minute, "ali@example.com", "right", false, 3, 3, "renewals do not send it again"},
		{"after 15 minutes", 2 * time.Minute, "ali@example.com", "right", false, 4, 4, ""},
	}
	for _, s := range steps {
		now = now.Add(s.after)
		err := renew(s.email, s.pw, s.force)
		if s.err == "" && err != nil || s.err != "" && (!errors.Is(err, errkind.Login) || !strings.Contains(err.Error(), s.err)) {
			t.Errorf("%s: %v, want %q (exit 4)", s.name, err, s.err)
		}
		if len(cs.Logins()) != s.logins || asked != s.asks {
			t.Errorf("%s: %d logins, password asked %d times; want %d and %d", s.name, len(cs.Logins()), asked, s.logins, s.asks)
		}
	}
}

// TestRenewWithinLifetime: a renewal whose new session would be due at
// once (--renew-within not shorter than its lifetime) fails as bad input
// before the password is asked for or sent; a shorter one logs in, and a
// session not yet due is left alone whatever the lifetime.
func TestRenewWithinLifetime(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name         string
		within       time.Duration
		until        time.Duration // from now; 0 for the default lifetime
		stored       time.Duration // a session stored before, expiring in; 0 for none
		wantErr      string
		logins, asks int
	}{
		{"default lifetime, within shorter", 13 * day, 0, 0, "", 1, 1},
		{"default lifetime, within equal", DefaultLifetime, 0, 0, "is not shorter than the session a renewal would store (14 days, the default lifetime", 0, 0},
		{"default lifetime, within longer", 30 * day, 0, 0, "--renew-within 30 days", 0, 0},
		{"--expires shorter than within", 3 * day, 2 * day, 0, "until --expires", 0, 0},
		{"--expires longer than within", 3 * day, 4 * day, 0, "", 1, 1},
		{"not due: nothing checked", 30 * day, 0, 60 * day, "", 0, 0},
		{"due: checked", 30 * day, 0, 20 * day, "every renewal would log in again", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := testkit.NewServer(t)
			cs.AddUser("ali@example.com", "right", "Ali")
			now := time.Now()
			h := &Commands{Path: filepath.Join(t.TempDir(), "auth.json")}
			h.Options.Now = func() time.Time { return now }
			if tt.stored > 0 {
				if err := h.Login(LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "right", Until: now.Add(tt.stored), Timeout: time.Minute}); err != nil {
					t.Fatal(err)
				}
			}
			before := len(cs.Logins())
			asked := 0
			q := RenewQuery{LoginQuery: LoginQuery{URL: cs.URL, Email: "ali@example.com", Timeout: time.Minute},
				Within:   tt.within,
				Password: func() (string, error) { asked++; return "right", nil }}
			if tt.until > 0 {
				q.Until = now.Add(tt.until)
			}
			err := h.Renew(q)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Renew: %v, want success", err)
			case tt.wantErr != "" && (!errors.Is(err, errkind.BadInput) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Renew: %v, want bad input holding %q", err, tt.wantErr)
			}
			if got := len(cs.Logins()) - before; got != tt.logins || asked != tt.asks {
				t.Errorf("%d logins, password asked %d times; want %d and %d", got, asked, tt.logins, tt.asks)
			}
		})
	}
}
