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
