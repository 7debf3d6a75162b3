package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

func TestLoginPasswordStdin(t *testing.T) {
	cs := newCryoSPARC(t, "correct horse")
	file := filepath.Join(t.TempDir(), "auth.json")
	now := time.Now().UTC().Truncate(time.Second).Add(123456789)
	r := runWith(t, &env{Stdin: strings.NewReader("correct horse\n"), Now: func() time.Time { return now }},
		"--file", file, "login", "--url", cs.URL, "--email", "ali@example.com", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("login exit %d: %s", r.code, r.stderr)
	}
	sum := sha256.Sum256([]byte("correct horse"))
	got := cs.Logins()[0]
	if got["password"] != hex.EncodeToString(sum[:]) || got["username"] != "ali@example.com" || got["grant_type"] != "password" || got["expires_in"] != "1209600" {
		t.Errorf("login form = %v", got)
	}
	if !strings.HasPrefix(cs.UserAgent(), "cryosparc-credential/") {
		t.Errorf("User-Agent = %q", cs.UserAgent())
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), "correct horse") || strings.Contains(string(data), hex.EncodeToString(sum[:])) {
		t.Error("the password or its hash was written to the session file")
	}
	if !strings.Contains(string(data), `"access_token": "tok-for-ali@example.com"`) || !strings.Contains(string(data), `"expires": "`+now.Add(14*24*time.Hour).Format("2006-01-02T15:04:05Z")+`"`) {
		t.Errorf("session file:\n%s", data)
	}
	if !strings.Contains(r.stdout, file) || !strings.Contains(r.stdout, "in 14 days") {
		t.Errorf("stdout %q should say where and until when", r.stdout)
	}
	out, err := testkit.CSTools(t, "find", file, cs.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "access_token=tok-for-ali@example.com") {
		t.Errorf("cryosparc-tools does not find the session: %v %s", err, out)
	}
}

func TestLoginFailuresChangeNothing(t *testing.T) {
	cs := newCryoSPARC(t, "right")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	original := `{"https://other": {}}`
	tests := []struct {
		name     string
		args     []string
		stdin    string
		env      map[string]string
		code     int
		inStderr string
	}{
		{"wrong password", []string{"--url", cs.URL, "--email", "a@x", "--password-stdin"}, "wrong\n", nil, 4, "Incorrect email or password"},
		{"wrong password from the environment", []string{"--url", cs.URL, "--email", "a@x"}, "", map[string]string{"CRYOSPARC_PASSWORD": "wrong"}, 4, "HTTP 401"},
		{"not CryoSPARC", []string{"--url", cs.URL + "/nope", "--email", "a@x", "--password-stdin"}, "right\n", nil, 6, "v5 or later"},
		{"expires too far", []string{"--url", cs.URL, "--email", "a@x", "--password-stdin", "--expires", time.Now().AddDate(1, 0, 2).Format("2006-01-02")}, "right\n", nil, 2, "at most one year"},
		{"expires in the past", []string{"--url", cs.URL, "--email", "a@x", "--password-stdin", "--expires", "2001-01-01"}, "right\n", nil, 2, "in the future"},
		{"expires not a date", []string{"--url", cs.URL, "--email", "a@x", "--password-stdin", "--expires", "soon"}, "right\n", nil, 2, "YYYY-MM-DD"},
		{"no terminal for the password", []string{"--url", cs.URL, "--email", "a@x"}, "", nil, 2, "--password-stdin"},
		{"password argument refused", []string{"--url", cs.URL, "--email", "a@x", "hunter2"}, "", nil, 2, "never an argument"},
		{"password flag does not exist", []string{"--url", cs.URL, "--email", "a@x", "--password", "hunter2"}, "", nil, 2, "flag provided but not defined"},
		{"bad URL", []string{"--url", "https://u:p@x", "--email", "a@x", "--password-stdin"}, "right\n", nil, 2, "user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(file, []byte(original), 0o600)
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			r := runWith(t, &env{Stdin: strings.NewReader(tt.stdin), Lookup: lookup}, append([]string{"--file", file, "login"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.inStderr)
			}
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			for _, secret := range []string{"wrong", "hunter2"} {
				if strings.Contains(r.stderr, secret) && !strings.Contains(tt.inStderr, secret) {
					t.Errorf("stderr leaks the password: %q", r.stderr)
				}
			}
			if data, _ := os.ReadFile(file); string(data) != original {
				t.Errorf("file changed to %s", data)
			}
		})
	}
}

func TestLoginExpiresHonoured(t *testing.T) {
	cs := newCryoSPARC(t, "pw")
	file := filepath.Join(t.TempDir(), "auth.json")
	loc := time.FixedZone("lab", 2*3600)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, loc)
	r := runWith(t, &env{Stdin: strings.NewReader("pw"), Now: func() time.Time { return now }},
		"--file", file, "login", "--url", cs.URL, "--email", "a@x", "--password-stdin", "--expires", "2026-05-10")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	// Midnight local time (UTC+2) on 2026-05-10 is 22:00 UTC on the 9th.
	want := time.Date(2026, 5, 10, 0, 0, 0, 0, loc).Sub(now)
	if cs.Logins()[0]["expires_in"] != fmt.Sprint(int64(want.Seconds())) {
		t.Errorf("expires_in = %s, want %d", cs.Logins()[0]["expires_in"], int64(want.Seconds()))
	}
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), `"expires": "2026-05-09T22:00:00Z"`) {
		t.Errorf("stored expiry:\n%s", data)
	}

	// With a fraction of a second in now, the server is asked for whole
	// seconds (rounded up) and the stored expiry is still midnight, as
	// cryosparc-tools stores it.
	now2 := time.Date(2026, 5, 6, 7, 8, 9, 600_000_000, loc)
	r = runWith(t, &env{Stdin: strings.NewReader("pw"), Now: func() time.Time { return now2 }},
		"--file", file, "login", "--url", cs.URL, "--email", "b@x", "--password-stdin", "--expires", "2026-05-10")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	if got := cs.Logins()[1]["expires_in"]; got != fmt.Sprint(int64(want.Seconds())) {
		t.Errorf("expires_in = %s, want %d (the seconds left, rounded up)", got, int64(want.Seconds()))
	}
	if data, _ := os.ReadFile(file); strings.Count(string(data), `"expires": "2026-05-09T22:00:00Z"`) != 2 {
		t.Errorf("stored expiry is not midnight local time:\n%s", data)
	}
}

func TestLoginPrompts(t *testing.T) {
	cs := newCryoSPARC(t, "s3cret")
	file := filepath.Join(t.TempDir(), "auth.json")
	tty := &fakeTTY{answers: map[string]string{"CryoSPARC URL: ": strings.TrimPrefix(cs.URL, "http://"), "Email: ": "bo@example.com", "Password: ": "s3cret"}}
	r := runWith(t, &env{TTY: func() (terminal, error) { return tty, nil }}, "--file", file, "login")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	if strings.Join(tty.asked, "|") != "CryoSPARC URL: |Email: " || strings.Join(tty.secret, "|") != "Password: " {
		t.Errorf("asked %q and secretly %q", tty.asked, tty.secret)
	}
	if cs.Logins()[0]["username"] != "bo@example.com" {
		t.Errorf("login as %q", cs.Logins()[0]["username"])
	}
	// The scheme-less URL got http:// and was stored in canonical form.
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), `"`+cs.URL+`"`) {
		t.Errorf("stored:\n%s", data)
	}
	// CRYOSPARC_EMAIL is used instead of asking.
	tty2 := &fakeTTY{answers: map[string]string{"Password: ": "s3cret"}}
	lookup := func(k string) (string, bool) {
		if k == "CRYOSPARC_EMAIL" {
			return "env@example.com", true
		}
		return "", false
	}
	r = runWith(t, &env{TTY: func() (terminal, error) { return tty2, nil }, Lookup: lookup}, "--file", file, "login", "--url", cs.URL)
	if r.code != 0 || len(tty2.asked) != 0 || cs.Logins()[1]["username"] != "env@example.com" {
		t.Errorf("exit %d, asked %q, user %q", r.code, tty2.asked, cs.Logins()[1]["username"])
	}
}

func TestLoginRefusesInvalidFileBeforeAsking(t *testing.T) {
	cs := newCryoSPARC(t, "pw")
	file := filepath.Join(t.TempDir(), "auth.json")
	bad := `{"https://x": {"a": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01"}}}`
	os.WriteFile(file, []byte(bad), 0o600)
	r := runWith(t, &env{Stdin: strings.NewReader("pw")}, "--file", file, "login", "--url", cs.URL, "--email", "a@x", "--password-stdin")
	if r.code != 3 || len(cs.Logins()) != 0 {
		t.Errorf("exit %d, %d logins; want 3 and no login", r.code, len(cs.Logins()))
	}
}
