//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestUnattendedRenewal is the crontab line: login --password-command
// --renew-within. No request while the session is valid for longer; one
// login when it is due; the password reaches only the user's command's
// output, never an argument of this program or a file.
func TestUnattendedRenewal(t *testing.T) {
	cs := newCryoSPARC(t, "s3cret pass")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	script := filepath.Join(dir, "pass show")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = cryosparc ] || exit 9\nprintf 's3cret pass\\n'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := "'" + script + "' cryosparc" // quotes keep the path with a space one word
	args := []string{"--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--renew-within", "3d"}
	now := time.Now()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return now.Add(d) } }

	// No session yet: it logs in.
	if r := runWith(t, &env{now: at(0)}, args...); r.code != 0 || len(cs.Logins()) != 1 {
		t.Fatalf("first run: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	if got := cs.Logins()[0]["password"]; got == "s3cret pass" || got == "" {
		t.Errorf("the server got %q, not the SHA-256 of the password", got)
	}
	// Valid for 14 days, more than 3: nothing to do, no request.
	r := runWith(t, &env{now: at(24 * time.Hour)}, args...)
	if r.code != 0 || len(cs.Logins()) != 1 || !strings.Contains(r.stdout, "nothing to renew") {
		t.Errorf("a session valid for 13 more days: exit %d, %d logins, %q", r.code, len(cs.Logins()), r.stdout)
	}
	// 12 days on, 2 are left: it renews, once.
	r = runWith(t, &env{now: at(12 * 24 * time.Hour)}, args...)
	if r.code != 0 || len(cs.Logins()) != 2 {
		t.Errorf("a session due for renewal: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	sess, ok, _ := store.Lookup(file, &store.Options{Now: at(12 * 24 * time.Hour)}, cs.URL, "ali@example.com")
	if !ok || sess.Expires.Time().Before(now.Add(25*24*time.Hour)) {
		t.Errorf("the renewed session expires %v", sess.Expires)
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "s3cret") || strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Errorf("the password reached the file or the output")
	}
	// A failing command: exit 2 with its status, no login.
	bad := append(args[:len(args)-4:len(args)-4], "--password-command", "'"+script+"' other")
	r = runWith(t, &env{now: at(12 * 24 * time.Hour)}, bad...)
	if r.code != 2 || !strings.Contains(r.stderr, "exit status 9") || len(cs.Logins()) != 2 {
		t.Errorf("a failing password command: exit %d (%s), %d logins", r.code, r.stderr, len(cs.Logins()))
	}
	// --expires as a duration, and its one-year cap.
	r = runWith(t, &env{now: at(0)}, "--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--expires", "30d")
	sess, _, _ = store.Lookup(file, nil, cs.URL, "ali@example.com")
	if r.code != 0 || sess.Expires.Time().Sub(now) < 30*24*time.Hour-time.Minute || sess.Expires.Time().Sub(now) > 30*24*time.Hour+time.Minute {
		t.Errorf("--expires 30d: exit %d (%s), expires %v", r.code, r.stderr, sess.Expires)
	}
	if r := runWith(t, &env{now: at(0)}, "--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-command", cmd, "--expires", "400d"); r.code != 2 || !strings.Contains(r.stderr, "one year") {
		t.Errorf("--expires 400d: exit %d (%s), want 2 naming the one-year cap", r.code, r.stderr)
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"pass show cryosparc", []string{"pass", "show", "cryosparc"}, false},
		{"secret-tool lookup service 'cryo sparc'", []string{"secret-tool", "lookup", "service", "cryo sparc"}, false},
		{`vault kv get -field=password "secret/cryo \"x\""`, []string{"vault", "kv", "get", "-field=password", `secret/cryo "x"`}, false},
		{`a\ b c`, []string{"a b", "c"}, false},
		{"  ", nil, false},
		{"'open", nil, true},
		{`"open`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if (err != nil) != tt.bad || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitWords(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// FuzzSplitWords: any input splits without a panic; plain ASCII without
// quotes or backslashes splits as strings.Fields does.
func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{"pass show cryosparc", `a 'b c' "d \"e\""`, `x\ y`, "'", `"`, "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := splitWords(s)
		for _, c := range []byte(s) {
			if c == '\'' || c == '"' || c == '\\' || c > '~' || c < ' ' && c != '\t' && c != '\n' {
				return
			}
		}
		if err != nil || strings.Join(got, "\x00") != strings.Join(strings.Fields(s), "\x00") {
			t.Errorf("splitWords(%q) = %q, %v; want %q", s, got, err, strings.Fields(s))
		}
	})
}
