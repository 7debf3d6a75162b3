package helper

import (
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// The variables exec sets for its command besides the instance and email,
// and those it removes: the command is to use exactly the chosen session,
// never log in again with a password.
const (
	EnvSessionExpires = "CRYOSPARC_SESSION_EXPIRES"
	EnvLicenseID      = "CRYOSPARC_LICENSE_ID"
)

// execManaged are the variables exec sets or removes in its command's
// environment.
var execManaged = []string{EnvBaseURL, EnvEmail, EnvSessionExpires, EnvHost, EnvPort, EnvPassword, EnvLicenseID}

// CheckTokenEnv refuses a name for the variable that is to carry the token
// (exec --token-env) that is empty or no variable name, or that the
// dynamic loader, the shell or exec itself own: the token there would be
// printed by the loader, run as a command, change where programs are
// found, or be overwritten. Names are compared without regard to case
// (Windows does not tell Path from PATH).
func CheckTokenEnv(name string) error {
	const instead = "; name a variable of your own, e.g. CS_TOKEN"
	upper := strings.ToUpper(name)
	switch {
	case name == "":
		return bad("--token-env is empty; name the variable to put the token in, e.g. CS_TOKEN, or leave the flag out")
	case !envName(name):
		return bad("--token-env %s is not a variable name (letters, digits and _, not starting with a digit)%s", text.Quote(name), instead)
	case strings.HasPrefix(upper, "LD_"), strings.HasPrefix(upper, "DYLD_"):
		return bad("--token-env %s is refused: the dynamic loader reads %s* variables in every program the command starts%s", name, upper[:strings.IndexByte(upper, '_')+1], instead)
	case shellOwned(upper), strings.HasPrefix(upper, "BASH_"):
		return bad("--token-env %s is refused: the shell and exec read %s for their own use%s", name, name, instead)
	}
	for _, v := range execManaged {
		if upper == v {
			return bad("--token-env %s is refused: exec sets or removes %s itself for the command%s", name, v, instead)
		}
	}
	return nil
}

// shellOwned are variables the shell, or exec finding the command, read
// for their own use (BASH_* aside).
func shellOwned(name string) bool {
	switch name {
	case "PATH", "HOME", "SHELL", "IFS", "ENV",
		"CDPATH", "PS1", "PS2", "PS4", "PROMPT_COMMAND",
		"SHELLOPTS", "BASHOPTS", "GLOBIGNORE":
		return true
	}
	return false
}

// envName reports whether s may name an environment variable.
func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// slurmNoLimit is how far ahead Slurm puts the end of a job that has no
// time limit: its start plus 365 days.
const slurmNoLimit = 365 * 24 * time.Hour

// JobTimeLeft returns how long the Slurm job has left, from its
// SLURM_JOB_END_TIME (end, epoch seconds; set when the variable is) and
// SLURM_JOB_START_TIME (start, "" when unset), at now: what exec --min-ttl
// job asks of the session. Every value is bounded before any arithmetic.
// A job without a time limit has no end to check against: Slurm gives it 0,
// or its start plus a year (so an end a year or more ahead, or a year or
// more after the start); that is a usage error saying to give a duration.
// So is an end already past (the job runs over its limit, or this node's
// clock is ahead): how long it will still run is not known.
func JobTimeLeft(end string, set bool, start string, now time.Time) (time.Duration, error) {
	const give = "give --min-ttl DURATION (e.g. --min-ttl 12h) instead of job"
	if !set || end == "" {
		return 0, bad("--min-ttl job needs $SLURM_JOB_END_TIME, which Slurm sets inside a job; outside one, give a duration such as 12h")
	}
	secs, ok := epochSeconds(end)
	if !ok {
		return 0, bad("SLURM_JOB_END_TIME=%s is not a time in epoch seconds; %s", text.Quote(end), give)
	}
	nowSecs := now.Unix()
	year := int64(slurmNoLimit / time.Second)
	begun, hasStart := epochSeconds(start)
	switch {
	case secs == 0:
		return 0, bad("SLURM_JOB_END_TIME=0: the job has no end time (no time limit); %s", give)
	case secs-nowSecs >= year: // nowSecs is after 1970: no overflow
		return 0, bad("SLURM_JOB_END_TIME is a year or more ahead, Slurm's mark for a job without a time limit: the job has no end time; %s", give)
	case hasStart && begun > 0 && begun <= secs && secs-begun >= year:
		return 0, bad("SLURM_JOB_END_TIME is a year after SLURM_JOB_START_TIME, Slurm's mark for a job without a time limit: the job has no end time; %s", give)
	case secs <= nowSecs:
		return 0, bad("SLURM_JOB_END_TIME says the job ended %s ago (it runs over its time limit, or this node's clock is ahead), so how long it will run is not known; %s",
			text.Duration(time.Duration(nowSecs-secs)*time.Second), give)
	}
	return time.Unix(secs, 0).Sub(now), nil
}

// SlurmJobTimeLeft is JobTimeLeft for the Slurm job the environment env
// describes ($SLURM_JOB_END_TIME, $SLURM_JOB_START_TIME), at now: the
// session exec --min-ttl job needs.
func SlurmJobTimeLeft(env func(key string) (string, bool), now time.Time) (time.Duration, error) {
	end, set := env("SLURM_JOB_END_TIME")
	start, _ := env("SLURM_JOB_START_TIME")
	return JobTimeLeft(end, set, start, now)
}

// epochSeconds reads a whole number of seconds, as Slurm writes it: digits
// only, at most what an int64 holds.
func epochSeconds(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
