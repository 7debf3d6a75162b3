package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// writeSessions writes a session file holding sessions (URL, email,
// token, expiry) and returns an env whose clock is now.
func writeSessions(t *testing.T, now time.Time, sessions ...store.Session) (*env, string) {
	t.Helper()
	var s store.Sessions
	for _, sess := range sessions {
		if _, err := s.Insert(sess); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, s.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{Now: func() time.Time { return now }}, file
}

func at(t time.Time) store.Expiry { return store.ExpiryFromTime(t.UTC().Truncate(time.Second)) }

// TestStatus runs status against a stand-in server whose operations live
// at paths only its schema names: a valid session, one the server no
// longer accepts, an expired one and an unreachable instance.
func TestStatus(t *testing.T) {
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "pw", "Ali Baba")
	cs.AddUser("bo@example.com", "pw", "Bo Diddley")
	good, revoked := cs.Issue("ali@example.com"), cs.Issue("bo@example.com")
	cs.Revoke(revoked)
	now := time.Now()
	e, file := writeSessions(t, now,
		store.Session{URL: cs.URL, Email: "ali@example.com", Token: good, Expires: at(now.Add(48 * time.Hour))},
		store.Session{URL: cs.URL, Email: "bo@example.com", Token: revoked, Expires: at(now.Add(48 * time.Hour))},
		store.Session{URL: cs.URL, Email: "old@example.com", Token: "old-token", Expires: at(now.Add(-time.Hour))},
		store.Session{URL: "http://127.0.0.1:9", Email: "ali@example.com", Token: "t-unreachable", Expires: at(now.Add(time.Hour))},
	)
	r := runWith(t, e, "--file", file, "status", "--json", "--timeout", "5s")
	if r.code != 4 {
		t.Fatalf("status: exit %d, want 4 (not every session valid); %s", r.code, r.stderr)
	}
	var rows []helper.Checked
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		cs.URL + " ali@example.com":          "valid",
		cs.URL + " bo@example.com":           "rejected",
		cs.URL + " old@example.com":          "expired",
		"http://127.0.0.1:9 ali@example.com": "unreachable",
	}
	for _, row := range rows {
		key := row.URL + " " + row.Email
		if row.Status != want[key] {
			t.Errorf("%s: status %q, want %q (%s)", key, row.Status, want[key], row.Detail)
		}
		if row.Status == "valid" && (row.Name != "Ali Baba" || row.ServerVersion != cs.Version) {
			t.Errorf("valid row %+v: want name and server version", row)
		}
		delete(want, key)
	}
	if len(want) > 0 {
		t.Errorf("missing rows: %v", want)
	}
	for _, tok := range []string{good, revoked, "old-token", "t-unreachable"} {
		if strings.Contains(r.stdout+r.stderr, tok) {
			t.Errorf("status showed a token")
		}
	}
	// Only the valid one: exit 0, a table.
	r = runWith(t, e, "--file", file, "status", "--url", cs.URL, "--email", "ali@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "Ali Baba") || !strings.Contains(r.stdout, "valid") {
		t.Errorf("status of the valid session: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runWith(t, e, "--file", file, "status", "--url", cs.URL, "--email", "bo@example.com")
	if r.code != 4 || !strings.Contains(r.stdout, "rejected by the server (log in again)") {
		t.Errorf("status of the rejected session: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runWith(t, e, "--file", file, "status", "--url", "https://nowhere.example.com"); r.code != 1 {
		t.Errorf("status of an instance with no session: exit %d", r.code)
	}
}
