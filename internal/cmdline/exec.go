package cmdline

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

func execCommand(e *env) command {
	return cmd(&cli.Command{
		Name:      "exec",
		Usage:     "run a command with the session it is to use: CRYOSPARC_BASE_URL, CRYOSPARC_EMAIL and CRYOSPARC_SESSION_EXPIRES set, so that CryoSPARC() picks it",
		UsageText: helper.Name + " exec [--url URL] [--email EMAIL] [--min-ttl DURATION|job] [--token-env NAME] -- COMMAND [ARGS...]",
		Description: "Chooses the session as token does (--url/--email, else cryosparc-tools' environment, else the first " +
			"session) and refuses, without starting COMMAND, when there is none or it expires within --min-ttl " +
			"(--min-ttl job: before this Slurm job ends, from $SLURM_JOB_END_TIME). Then it replaces itself with COMMAND, " +
			"whose environment has CRYOSPARC_BASE_URL and CRYOSPARC_EMAIL set to the session, CRYOSPARC_SESSION_EXPIRES to " +
			"its expiry (RFC 3339, UTC), and CRYOSPARC_MASTER_HOSTNAME/CRYOSPARC_BASE_PORT and " +
			"CRYOSPARC_PASSWORD/CRYOSPARC_LICENSE_ID removed; nothing else changes. COMMAND's exit status and " +
			"signals are its own. A job without a time limit (SLURM_JOB_END_TIME 0, or a year ahead) has no end for " +
			"--min-ttl job: give a duration. The token is not put in the environment unless --token-env names a variable for it " +
			"(visible to the user's own processes, e.g. in /proc/PID/environ); names the loader, the shell or exec own " +
			"(LD_*, DYLD_*, PATH, HOME, SHELL, IFS, ENV, BASH_*, the CRYOSPARC_* exec sets or removes) are refused.",
		Action: func(c *cli.Context) error { return e.exec(c) },
	}, func() []cli.Flag {
		return []cli.Flag{
			urlFlag("instance URL (default: $CRYOSPARC_BASE_URL, else the first instance with a session)"),
			emailFlag("email (default: $CRYOSPARC_EMAIL, else the instance's first session)"),
			&cli.StringFlag{Name: "min-ttl", Usage: "refuse unless the session is valid for at least this long, e.g. 2h, 7d, or job: until $SLURM_JOB_END_TIME"},
			&cli.StringFlag{Name: "token-env", Usage: "also put the token in this environment variable, for programs that read it there (not one the loader, the shell or exec use, such as LD_PRELOAD, PATH, HOME or CRYOSPARC_EMAIL)"},
		}
	})
}

func (e *env) exec(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return usagef("exec needs a command to run: %s exec [--url URL] [--email EMAIL] -- COMMAND [ARGS...]", helper.Name)
	}
	tokenEnv := c.String("token-env")
	if c.IsSet("token-env") {
		if err := helper.CheckTokenEnv(tokenEnv); err != nil {
			return err
		}
	}
	if c.IsSet("min-ttl") && c.String("min-ttl") == "" {
		return usagef("--min-ttl is empty: give %s, or job", durationForms)
	}
	minTTL, err := e.minTTL(c.String("min-ttl"))
	if err != nil {
		return err
	}
	f, err := e.file(c)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return usagef("exec: %s: command not found (%v)", text.Quote(args[0]), errors.Unwrap(err))
	}
	sess, err := f.ForCryoSPARC(c.String("url"), c.String("email"), minTTL)
	if err != nil {
		return err
	}
	err = execve(path, args, helper.ExecEnv(os.Environ(), sess, tokenEnv), closedFDs(e))
	var exit exitStatus
	if errors.As(err, &exit) {
		return err
	}
	return errkind.Errorf(errkind.BadInput, "exec: cannot run %s: %w", text.Quote(args[0]), err)
}

// minTTL reads --min-ttl: a duration, or "job" for the time left until the
// Slurm job ends.
func (e *env) minTTL(v string) (time.Duration, error) {
	switch {
	case v == "":
		return 0, nil
	case v == "job":
		return helper.SlurmJobTimeLeft(e.lookup, e.now())
	}
	d, err := parseDuration(v)
	if err != nil {
		return 0, usagef("--min-ttl: %v, or job", err)
	}
	return d, nil
}

// exitStatus is the status of a command exec ran as a child, where it
// cannot replace the program.
type exitStatus int

func (s exitStatus) Error() string { return "exit status " + strconv.Itoa(int(s)) }
