package helper

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// TestLoginCommand: what the login command asks, in what order, where its
// password comes from, and what it refuses before asking anything. The
// stand-in server accepts only "right" for ali@example.com, so a login
// that succeeds proves which source gave the password.
func TestLoginCommand(t *testing.T) {
	cs := testkit.NewServer(t)
	cs.AddUser("ali@example.com", "right", "Ali")
	source := func(pw string, runs *int) func() (string, error) {
		return func() (string, error) { *runs++; return pw, nil }
	}
	tests := []struct {
		name     string
		env      map[string]string
		url      string // the command's own; "-" for the server's
		email    string
		stdin    string // "" for no --password-stdin
		command  string // "" for no --password-command
		until    time.Duration
		within   time.Duration
		stored   bool // a session valid for 14 days is stored first
		answers  map[string]string
		asked    []string // the prompts, in order
		logins   int
		err      string // in the error; "" for success
		sourcesN int    // how many times stdin and the command were read
	}{
		{name: "nothing given: URL, email, password asked in that order",
			answers: map[string]string{"CryoSPARC URL: ": "-", "Email: ": "ali@example.com", "Password: ": "right"},
			asked:   []string{"CryoSPARC URL: ", "Email: ", "Password: "}, logins: 1},
		{name: "cryosparc-tools' environment names all three: nothing asked",
			env:   map[string]string{EnvBaseURL: "-", EnvEmail: "ali@example.com", EnvPassword: "right"},
			asked: nil, logins: 1},
		{name: "an empty $CRYOSPARC_PASSWORD is no password: asked",
			env: map[string]string{EnvPassword: ""},
			url: "-", email: "ali@example.com",
			answers: map[string]string{"Password: ": "right"}, asked: []string{"Password: "}, logins: 1},
		{name: "standard input before $CRYOSPARC_PASSWORD",
			env: map[string]string{EnvPassword: "wrong"}, url: "-", email: "ali@example.com",
			stdin: "right", logins: 1, sourcesN: 1},
		{name: "the command before $CRYOSPARC_PASSWORD",
			env: map[string]string{EnvPassword: "wrong"}, url: "-", email: "ali@example.com",
			command: "right", logins: 1, sourcesN: 1},
		{name: "$CRYOSPARC_PASSWORD before the terminal",
			env: map[string]string{EnvPassword: "right"}, url: "-", email: "ali@example.com",
			answers: map[string]string{"Password: ": "wrong"}, logins: 1},
		{name: "standard input and a command: refused before anything",
			url: "-", stdin: "right", command: "right",
			err: "give --password-stdin or --password-command, not both"},
		{name: "an expiry in the past: refused before anything",
			url: "-", until: -time.Hour, err: "--expires X must be in the future"},
		{name: "renewal of a session valid for longer: nothing asked, no password read",
			url: "-", email: "ali@example.com", command: "right", within: 3 * 24 * time.Hour, stored: true},
		{name: "renewal due: the email stored is used, the password read once",
			url: "-", command: "right", within: 30 * 24 * time.Hour, until: 60 * 24 * time.Hour, stored: true, logins: 1, sourcesN: 1},
		{name: "renewal due, but its new session due at once: refused, no password read",
			url: "-", command: "right", within: 30 * 24 * time.Hour, stored: true,
			err: "is not shorter than the session a renewal would store"},
		{name: "renewal with nothing stored: the email asked",
			url: "-", command: "right", within: 3 * 24 * time.Hour,
			answers: map[string]string{"Email: ": "ali@example.com"}, asked: []string{"Email: "}, logins: 1, sourcesN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHelper(t, "")
			fix := func(s string) string { return strings.Replace(s, "-", cs.URL, 1) }
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if v, ok := env[EnvBaseURL]; ok {
				env[EnvBaseURL] = fix(v)
			}
			withEnv(h, env)
			if tt.stored {
				if err := h.Login(LoginQuery{URL: cs.URL, Email: "ali@example.com", Password: "right"}); err != nil {
					t.Fatal(err)
				}
			}
			before := len(cs.Logins())
			var asked []string
			runs := 0
			q := LoginCommandQuery{LoginQuery: LoginQuery{URL: fix(tt.url), Email: tt.email}, Within: tt.within,
				Ask: func(label string, secret bool) (string, error) {
					asked = append(asked, label)
					if secret != (label == "Password: ") {
						t.Errorf("%q asked with secret %v", label, secret)
					}
					return fix(tt.answers[label]), nil
				}}
			if tt.until != 0 {
				q.Until, q.UntilAs = now.Add(tt.until), "--expires X"
			}
			if tt.stdin != "" {
				q.PasswordStdin = source(tt.stdin, &runs)
			}
			if tt.command != "" {
				q.PasswordCommand = source(tt.command, &runs)
			}
			err := h.LoginCommand(q)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, errkind.BadInput)) {
				t.Fatalf("error %v; want %q", err, tt.err)
			}
			if !reflect.DeepEqual(asked, tt.asked) || len(cs.Logins())-before != tt.logins || runs != tt.sourcesN {
				t.Errorf("asked %q, %d logins, password sources read %d times; want %q, %d, %d", asked, len(cs.Logins())-before, runs, tt.asked, tt.logins, tt.sourcesN)
			}
		})
	}
}

// TestFlagsThatGoTogether: a flag given without the one it modifies is a
// usage error before the file is touched.
func TestFlagsThatGoTogether(t *testing.T) {
	tests := []struct {
		name string
		run  func(*Commands) error
		want string
	}{
		{"logout --yes", func(h *Commands) error { return h.Logout(LogoutQuery{Yes: true}) }, "--yes goes with --all"},
		{"doctor --force", func(h *Commands) error { return h.Doctor(DoctorQuery{Force: true}) }, "--force goes with --fix"},
	}
	for _, tt := range tests {
		h, _ := newHelper(t, "this is not json")
		err := tt.run(h)
		if !errors.Is(err, errkind.BadInput) || err.Error() != tt.want {
			t.Errorf("%s: %v; want a usage error %q", tt.name, err, tt.want)
		}
		if entries, _ := os.ReadDir(filepath.Dir(h.Path)); len(entries) != 1 {
			t.Errorf("%s: the folder holds %d files, want the session file alone", tt.name, len(entries))
		}
		if data, _ := os.ReadFile(h.Path); string(data) != "this is not json" {
			t.Errorf("%s: the file changed", tt.name)
		}
	}
}

// TestCheckGiven: an --url or --email given empty is refused; left out, or
// given a value, it is not.
func TestCheckGiven(t *testing.T) {
	tests := []struct {
		flag, value string
		given       bool
		want        string
	}{
		{"url", "", true, "--url is empty (an unset variable?); give a value, or leave the flag out: an empty one never means any instance"},
		{"email", "", true, "--email is empty (an unset variable?); give a value, or leave the flag out: an empty one never means any email"},
		{"url", "", false, ""},
		{"email", "a@x", true, ""},
	}
	for _, tt := range tests {
		err := CheckGiven(tt.flag, tt.given, tt.value)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want || !errors.Is(err, errkind.BadInput)) {
			t.Errorf("CheckGiven(%q, %v, %q) = %v; want %q", tt.flag, tt.given, tt.value, err, tt.want)
		}
	}
}

// TestSlurmJobTimeLeft: the job's variables are read from the environment
// given, as JobTimeLeft reads them.
func TestSlurmJobTimeLeft(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	tests := []struct {
		env  map[string]string
		want time.Duration
		err  string
	}{
		{map[string]string{"SLURM_JOB_END_TIME": "1800003600", "SLURM_JOB_START_TIME": "1799990000"}, time.Hour, ""},
		{map[string]string{}, 0, "needs $SLURM_JOB_END_TIME"},
		{map[string]string{"SLURM_JOB_END_TIME": "0"}, 0, "no time limit"},
		{map[string]string{"SLURM_JOB_END_TIME": "1800003600", "SLURM_JOB_START_TIME": "1768467600"}, 0, "a year after SLURM_JOB_START_TIME"},
	}
	for _, tt := range tests {
		got, err := SlurmJobTimeLeft(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, at)
		if got != tt.want || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: %v, %v; want %v, %q", tt.env, got, err, tt.want, tt.err)
		}
	}
}
