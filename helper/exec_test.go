package helper

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestCheckTokenEnv: --token-env takes a variable of the user's own, and
// refuses, as bad usage naming the reason, what the loader, the shell or
// exec itself own, an empty name and one that is no variable name.
func TestCheckTokenEnv(t *testing.T) {
	tests := []struct {
		name string
		why  string // in the error; "" for accepted
	}{
		{"CS_TOKEN", ""},
		{"CRYOSPARC_TOKEN", ""},
		{"token", ""},
		{"_X1", ""},
		{"LD_PRELOAD", "dynamic loader"},
		{"LD_LIBRARY_PATH", "dynamic loader"},
		{"ld_preload", "dynamic loader"},
		{"DYLD_INSERT_LIBRARIES", "dynamic loader"},
		{"PATH", "shell"},
		{"Path", "shell"},
		{"HOME", "shell"},
		{"SHELL", "shell"},
		{"IFS", "shell"},
		{"ENV", "shell"},
		{"BASH_ENV", "shell"},
		{"BASH_FUNC_x", "shell"},
		{"PROMPT_COMMAND", "shell"},
		{"PS4", "shell"},
		{"CRYOSPARC_BASE_URL", "exec sets or removes"},
		{"CRYOSPARC_EMAIL", "exec sets or removes"},
		{"CRYOSPARC_MASTER_HOSTNAME", "exec sets or removes"},
		{"CRYOSPARC_BASE_PORT", "exec sets or removes"},
		{"CRYOSPARC_PASSWORD", "exec sets or removes"},
		{"CRYOSPARC_LICENSE_ID", "exec sets or removes"},
		{"CRYOSPARC_SESSION_EXPIRES", "exec sets or removes"},
		{"", "empty"},
		{"A-B", "not a variable name"},
		{"1X", "not a variable name"},
		{"X=Y", "not a variable name"},
		{"X Y", "not a variable name"},
		{"\x1b[2J", "not a variable name"},
	}
	for _, tt := range tests {
		err := CheckTokenEnv(tt.name)
		switch {
		case tt.why == "" && err != nil:
			t.Errorf("CheckTokenEnv(%q) = %v, want it accepted", tt.name, err)
		case tt.why != "" && (errkind.Of(err) != errkind.BadInput || !strings.Contains(err.Error(), tt.why)):
			t.Errorf("CheckTokenEnv(%q) = %v, want bad input saying %q", tt.name, err, tt.why)
		case err != nil && (strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\x1b")):
			t.Errorf("CheckTokenEnv(%q) = %q: not one safe line", tt.name, err)
		}
	}
}

// TestExecEnvManagedNames: every variable ExecEnv sets or removes is one
// CheckTokenEnv refuses, so the token can never overwrite one of them or
// come back in a removed one.
func TestExecEnvManagedNames(t *testing.T) {
	sess := store.Session{URL: "https://a", Email: "e", Token: "TOKEN", Expires: store.ExpiryFromTime(now)}
	environ := []string{}
	for _, k := range []string{"CRYOSPARC_BASE_URL", "CRYOSPARC_EMAIL", "CRYOSPARC_MASTER_HOSTNAME", "CRYOSPARC_BASE_PORT",
		"CRYOSPARC_PASSWORD", "CRYOSPARC_LICENSE_ID", "CRYOSPARC_SESSION_EXPIRES", "KEEP"} {
		environ = append(environ, k+"=parent")
	}
	got := ExecEnv(environ, sess, "")
	for _, kv := range got {
		k, v, _ := strings.Cut(kv, "=")
		if v == "parent" && k != "KEEP" {
			t.Errorf("ExecEnv kept the parent's %s", k)
		}
		if k != "KEEP" && CheckTokenEnv(k) == nil {
			t.Errorf("ExecEnv sets %s, which --token-env accepts", k)
		}
	}
	for _, k := range []string{"CRYOSPARC_PASSWORD", "CRYOSPARC_LICENSE_ID", "CRYOSPARC_MASTER_HOSTNAME", "CRYOSPARC_BASE_PORT"} {
		if slices.ContainsFunc(got, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			t.Errorf("ExecEnv left %s in the command's environment", k)
		}
	}
	want := []string{"KEEP=parent", "CRYOSPARC_BASE_URL=https://a", "CRYOSPARC_EMAIL=e", "CRYOSPARC_SESSION_EXPIRES=" + now.UTC().Format(time.RFC3339)}
	if !slices.Equal(got, want) {
		t.Errorf("ExecEnv = %q, want %q", got, want)
	}
}

// TestJobTimeLeft: SLURM_JOB_END_TIME is bounded before any arithmetic: a
// number too large for a time, or any that is not digits, is bad input;
// 0, an end a year or more ahead, or a year after the job's start (Slurm's
// marks for a job without a time limit) and an end already past are bad
// usage saying to give a duration; only an end within the year ahead gives
// the time left.
func TestJobTimeLeft(t *testing.T) {
	at := func(d time.Duration) string { return fmt.Sprint(now.Add(d).Unix()) }
	const noEnd, past, notTime = "no end time", "ended", "not a time in epoch seconds"
	tests := []struct {
		end, start string
		want       time.Duration
		why        string
	}{
		{at(2 * time.Hour), "", 2 * time.Hour, ""},
		{" " + at(time.Hour) + "\n", "", time.Hour, ""},
		{at(364 * 24 * time.Hour), "", 364 * 24 * time.Hour, ""},
		{at(2 * time.Hour), at(-time.Hour), 2 * time.Hour, ""},
		{at(2 * time.Hour), "garbage", 2 * time.Hour, ""}, // the start only ever refines
		{at(time.Second), "", time.Second, ""},
		{"0", "", 0, noEnd},
		{"000", "", 0, noEnd},
		{at(365 * 24 * time.Hour), "", 0, noEnd},
		{at(400 * 24 * time.Hour), "", 0, noEnd},
		{"9223372036854775807", "", 0, noEnd},
		// A job without a limit that has run a day: its end is less than
		// a year ahead, but a year after its start.
		{at(364 * 24 * time.Hour), at(-24 * time.Hour), 0, noEnd},
		{"9223372036854775808", "", 0, notTime},
		{"99999999999999999999999", "", 0, notTime},
		{"9.2e18", "", 0, notTime},
		{"-1", "", 0, notTime},
		{"+100", "", 0, notTime},
		{"0x10", "", 0, notTime},
		{"1h", "", 0, notTime},
		{"", "", 0, "needs $SLURM_JOB_END_TIME"},
		{at(0), "", 0, past},
		{at(-time.Hour), "", 0, past},
		{"1", "", 0, past},
	}
	for _, tt := range tests {
		got, err := JobTimeLeft(tt.end, true, tt.start, now)
		switch {
		case tt.why == "" && (err != nil || got != tt.want):
			t.Errorf("JobTimeLeft(%q, start %q) = %v, %v; want %v", tt.end, tt.start, got, err, tt.want)
		case tt.why != "" && (errkind.Of(err) != errkind.BadInput || !strings.Contains(err.Error(), tt.why)):
			t.Errorf("JobTimeLeft(%q, start %q) = %v, %v; want bad input saying %q", tt.end, tt.start, got, err, tt.why)
		case tt.why == noEnd || tt.why == past:
			if !strings.Contains(err.Error(), "--min-ttl DURATION") {
				t.Errorf("JobTimeLeft(%q): %v does not say to give a duration", tt.end, err)
			}
		}
	}
	if _, err := JobTimeLeft("", false, "", now); err == nil || !strings.Contains(err.Error(), "outside one") {
		t.Errorf("unset SLURM_JOB_END_TIME: %v", err)
	}
	if _, err := JobTimeLeft(at(-2*time.Hour), true, "", now); err == nil || !strings.Contains(err.Error(), "2 h ago") {
		t.Errorf("an end 2 h past: %v, want the time said as every message says it", err)
	}
}

// FuzzJobTimeLeft: whatever SLURM_JOB_END_TIME and SLURM_JOB_START_TIME
// hold, JobTimeLeft answers either bad input or a time left within the
// year ahead that is exactly the end's distance from now: no overflow
// ever turns a far end into a short wait.
func FuzzJobTimeLeft(f *testing.F) {
	for _, s := range []string{"0", "1", "9223372036854775807", "9223372036854775808", "9.2e18", "-1",
		fmt.Sprint(now.Add(time.Hour).Unix()), fmt.Sprint(now.Add(366 * 24 * time.Hour).Unix()), " 1772600000 ", ""} {
		f.Add(s, "")
		f.Add(s, fmt.Sprint(now.Add(-time.Hour).Unix()))
	}
	f.Fuzz(func(t *testing.T, end, start string) {
		left, err := JobTimeLeft(end, true, start, now)
		if err != nil {
			if errkind.Of(err) != errkind.BadInput || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("JobTimeLeft(%q, %q): %v, want one line of bad input", end, start, err)
			}
			return
		}
		if left <= 0 || left >= 365*24*time.Hour {
			t.Fatalf("JobTimeLeft(%q, %q) = %v: outside the year ahead", end, start, left)
		}
		secs, ok := epochSeconds(end)
		if !ok || time.Unix(secs, 0).Sub(now) != left {
			t.Fatalf("JobTimeLeft(%q, %q) = %v, not the end's distance from now", end, start, left)
		}
	})
}
