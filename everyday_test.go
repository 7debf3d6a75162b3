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
	return &env{now: func() time.Time { return now }}, file
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

// TestEverydayMessages: what a user sees when something is missing.
func TestEverydayMessages(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now,
		store.Session{URL: "https://cs.example.com", Email: "ali@example.com", Token: "tok-ali", Expires: at(now.Add(-2 * time.Hour))},
		store.Session{URL: "https://lab.example.org:39000", Email: "bo@example.com", Token: "tok-bo", Expires: at(now.Add(72 * time.Hour))},
	)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"expired session, get", "url=https://cs.example.com\n", []string{"get"}, 1,
			[]string{"expired", "login --url https://cs.example.com --email ali@example.com"}},
		{"expired session, token", "", []string{"token", "--url", "https://cs.example.com"}, 1,
			[]string{"expired", "log in again"}},
		{"no session: names the file and the stored instances", "url=https://other.example.com\n", []string{"get"}, 1,
			[]string{file, "https://lab.example.org:39000"}},
		{"a URL copied from the browser", "url=https://lab.example.org:39000/browse/P1-W1-J5\n", []string{"get"}, 1,
			[]string{"did you mean https://lab.example.org:39000?"}},
		{"http where the session is https", "", []string{"token", "--url", "http://lab.example.org:39000"}, 1,
			[]string{"did you mean https://lab.example.org:39000?"}},
		{"min-ttl advises a login date", "", []string{"token", "--url", "https://lab.example.org:39000", "--min-ttl", "30d"}, 1,
			[]string{"--expires " + now.Add(31*24*time.Hour).Format("2006-01-02")}},
		{"days accepted", "", []string{"token", "--url", "https://lab.example.org:39000", "--min-ttl", "1d12h"}, 0, nil},
		{"a bad duration names the forms", "", []string{"token", "--min-ttl", "5"}, 2, []string{"30d", "--min-ttl"}},
		{"lock timeout without a unit", "", []string{"--lock-timeout", "5", "list"}, 2, []string{"30d", "--lock-timeout"}},
		{"global flag after the command", "", []string{"list", "--file", file, "--lock-timeout", "1d"}, 0, nil},
		{"unknown flag with two dashes", "", []string{"list", "--nope"}, 2, []string{"--nope", "list --help"}},
		{"typo in a command", "", []string{"gte"}, 2, []string{"did you mean get?"}},
		{"logout says the server still accepts the token", "", []string{"logout", "--email", "bo@example.com"}, 0,
			[]string{"still accepts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e2 := *e
			e2.stdin = strings.NewReader(tt.stdin)
			args := tt.args
			if tt.args[0] != "list" {
				args = append([]string{"--file", file}, args...)
			}
			r := runWith(t, &e2, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr+r.stdout, w) {
					t.Errorf("output does not say %q:\n%s%s", w, r.stdout, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "tok-") {
				t.Errorf("a token reached stderr: %s", r.stderr)
			}
		})
	}
}

// TestTokenHeader: --header prints a header line for curl -H @-.
func TestTokenHeader(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now, store.Session{URL: "https://cs.example.com", Email: "a@x", Token: "tok-a", Expires: at(now.Add(time.Hour))})
	r := runWith(t, e, "--file", file, "token", "--header", "--url", "https://cs.example.com")
	if r.code != 0 || r.stdout != "Authorization: Bearer tok-a\n" {
		t.Errorf("token --header: exit %d %q", r.code, r.stdout)
	}
}

// TestCryoSPARCEnvironment: cryosparc-tools' own variables name the
// default instance; a flag or url= comes first.
func TestCryoSPARCEnvironment(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now,
		store.Session{URL: "https://first.example.com", Email: "a@x", Token: "tok-first", Expires: at(now.Add(time.Hour))},
		store.Session{URL: "http://cs-master:39000", Email: "a@x", Token: "tok-master", Expires: at(now.Add(time.Hour))},
		store.Session{URL: "http://localhost:61000", Email: "a@x", Token: "tok-local", Expires: at(now.Add(time.Hour))},
	)
	tests := []struct {
		env   map[string]string
		stdin string
		args  []string
		want  string
		code  int
	}{
		{nil, "", []string{"token"}, "tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "", []string{"token"}, "tok-master\n", 0},
		{map[string]string{"CRYOSPARC_MASTER_HOSTNAME": "cs-master", "CRYOSPARC_BASE_PORT": "39000"}, "", []string{"token"}, "tok-master\n", 0},
		{map[string]string{"CRYOSPARC_BASE_PORT": "61000"}, "", []string{"token"}, "tok-local\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "", []string{"token", "--url", "https://first.example.com"}, "tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "email=a@x\n", []string{"get"}, "access_token=tok-master\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "url=https://first.example.com\n", []string{"get"}, "access_token=tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "x", "CRYOSPARC_MASTER_HOSTNAME": "y"}, "", []string{"token"}, "", 2},
	}
	for _, tt := range tests {
		e2 := *e
		e2.stdin = strings.NewReader(tt.stdin)
		e2.lookup = func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		r := runWith(t, &e2, append([]string{"--file", file}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%v %v: exit %d %q %s; want %d %q", tt.env, tt.args, r.code, r.stdout, r.stderr, tt.code, tt.want)
		}
	}
}
