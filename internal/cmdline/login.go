package cmdline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// Terminal asks a person for what a command is missing.
type Terminal interface {
	Prompt(label string) (string, error)
	PromptPassword(label string) (string, error)
	io.Closer
}

// ttyTerminal prompts on the controlling terminal, /dev/tty.
type ttyTerminal struct {
	f *os.File
	r *bufio.Reader
}

func openTTY() (Terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(f.Fd())) {
		if f != nil {
			f.Close()
		}
		return nil, errors.New("no terminal")
	}
	return &ttyTerminal{f: f, r: bufio.NewReader(f)}, nil
}

func (t *ttyTerminal) Close() error { return t.f.Close() }

func (t *ttyTerminal) Prompt(label string) (string, error) {
	_, _ = fmt.Fprint(t.f, label) // a terminal that cannot be written is not read either: the read reports it
	line, err := t.r.ReadString('\n')
	if err != nil {
		// End of input (Ctrl-D), even after some characters: no answer.
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func (t *ttyTerminal) PromptPassword(label string) (string, error) {
	_, _ = fmt.Fprint(t.f, label) // as in Prompt: the read reports a terminal gone
	pw, err := readPassword(t.f, t.r)
	_, _ = fmt.Fprintln(t.f) // ends the line the hidden password left; the password is read either way
	return pw, err
}

func (e *env) terminal() (Terminal, error) {
	if e.tty != nil {
		return e.tty()
	}
	return openTTY()
}

// confirm returns a function that asks a yes/no question on the terminal,
// or nil when there is none.
func (e *env) confirm() func(string) (bool, error) {
	tty, err := e.terminal()
	if err != nil {
		return nil
	}
	tty.Close()
	return func(question string) (bool, error) {
		tty, err := e.terminal()
		if err != nil {
			return false, usagef("no terminal to ask: add --yes")
		}
		defer tty.Close()
		answer, err := tty.Prompt(question + "[y/N] ")
		if err != nil {
			return false, usagef("no answer read from the terminal (%v)", err)
		}
		answer = strings.ToLower(strings.TrimSpace(answer))
		return answer == "y" || answer == "yes", nil
	}
}

func loginCommand(e *env) command {
	return cmd(&cli.Command{
		Name:      "login",
		Usage:     "log in to CryoSPARC and store the session",
		UsageText: helper.Name + " login [--url URL] [--email EMAIL] [--expires DATE|DURATION] [--password-stdin | --password-command CMD] [--renew-within DURATION [--force]] [--quiet]",
		Description: "Does what `python -m cryosparc.tools login` does: finds the login operation of <url>/api/cmd, " +
			"sends the email and the SHA-256 of the password, and stores the token in the session file. What is not " +
			"given is asked on the terminal, the password without echo. For scripts: --password-stdin, " +
			"--password-command, or the environment variables CRYOSPARC_EMAIL and CRYOSPARC_PASSWORD. There is no " +
			"password flag. --password-command takes the first line of the command's output (as pass prints it: the password, " +
			"then notes), and --timeout bounds the command too. With --renew-within, a session still valid for longer is left " +
			"as it is (exit 0): with --password-command it is the unattended renewal a crontab or scrontab line runs. " +
			"Renewals started at once, on any host sharing the file, log in once: the others wait for that one and exit 0 " +
			"saying whose renewal they joined. When the server refuses the password, renewals of that session neither run the " +
			"password command nor send it for 15 minutes (exit 4), until a login succeeds or --force is given. --quiet prints " +
			"nothing unless there is an error, for cron. Exits 4 when the server refused the login, 6 when it could not be " +
			"reached or did not answer as CryoSPARC.",
		Action: func(c *cli.Context) error { return e.login(c) },
	}, func() []cli.Flag {
		return []cli.Flag{
			urlFlag("CryoSPARC web URL, e.g. https://cryosparc.example.com (default: $CRYOSPARC_BASE_URL, else asked; http:// is added when there is no scheme)"),
			emailFlag("login email (default: $CRYOSPARC_EMAIL, else asked)"),
			&cli.StringFlag{Name: "expires", Usage: "when the session expires: a date YYYY-MM-DD (midnight local time) or a duration such as 30d; at most one year ahead (default: 14 days)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			&cli.StringFlag{Name: "password-command", Usage: "run this command (without a shell: words split as a shell would, quotes kept together) and take the first line of its output as the password, e.g. 'pass show cryosparc'"},
			&cli.GenericFlag{Name: "renew-within", Value: &durationFlag{}, Usage: "do nothing while the stored session is valid for longer than this, e.g. 3d; renewals started at once log in once, and for 15 minutes after the server refused the password, renewals neither run the password command nor send it"},
			&cli.BoolFlag{Name: "force", Usage: "with --renew-within: send the password even though the server refused it in the last 15 minutes"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing when nothing is due or the login succeeded (errors still go to standard error): for cron"},
			timeoutFlag(30*time.Second, "give up on the server, and on the password command, after this long, e.g. 30s, 2m (0 for no limit)"),
		}
	})
}

func (e *env) login(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("login takes no arguments (a password is never an argument); see `%s login --help`", helper.Name)
	}
	f, err := e.file(c)
	if err != nil {
		return err
	}
	q := helper.LoginCommandQuery{
		LoginQuery: helper.LoginQuery{URL: c.String("url"), Email: c.String("email"),
			Timeout: duration(c, "timeout"), HTTP: e.httpClient, UserAgent: helper.Name + "/" + versionNumber(e.version)},
		Within: duration(c, "renew-within"), Force: c.Bool("force"), Quiet: c.Bool("quiet"),
	}
	if v := c.String("expires"); v != "" {
		if q.Until, err = e.expiresFlag(v); err != nil {
			return err
		}
		q.UntilAs = "--expires " + text.Quote(v)
	}
	if c.Bool("password-stdin") {
		q.PasswordStdin = func() (string, error) {
			b, err := io.ReadAll(io.LimitReader(e.io.In, 1<<20))
			if err != nil {
				return "", usagef("reading the password from standard input: %v", err)
			}
			return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
		}
	}
	if cmd := c.String("password-command"); cmd != "" {
		q.PasswordCommand = func() (string, error) {
			stdin := e.io.In
			if _, closed := stdin.(closedStream); closed {
				stdin = nil // the command gets /dev/null: it may not need one
			}
			return passwordFromCommand(cmd, stdin, e.io.ErrOut, duration(c, "timeout"))
		}
	}
	var tty Terminal
	defer func() {
		if tty != nil {
			tty.Close()
		}
	}()
	q.Ask = func(label string, secret bool) (string, error) {
		what := strings.ToLower(strings.TrimSuffix(label, ": "))
		if tty == nil {
			t, err := e.terminal()
			if err != nil {
				return "", usagef("no terminal to ask for the %s; give --url, --email and --password-stdin or --password-command (or CRYOSPARC_EMAIL and CRYOSPARC_PASSWORD)", what)
			}
			tty = t
		}
		answer := tty.Prompt
		if secret {
			answer = tty.PromptPassword
		}
		v, err := answer(label)
		if err != nil {
			// Ctrl-D or a closed terminal: nothing was given.
			return "", usagef("no %s read from the terminal (%v)", what, err)
		}
		return v, nil
	}
	return f.LoginCommand(q)
}

// expiresFlag reads --expires: a date (midnight local time, as
// cryosparc-tools' strptime %Y-%m-%d reads it) or a duration from now.
func (e *env) expiresFlag(v string) (time.Time, error) {
	now := e.now()
	if day, err := time.ParseInLocation("2006-1-2", v, now.Location()); err == nil {
		return day, nil
	}
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		return time.Time{}, usagef("--expires %s is neither a date YYYY-MM-DD nor a duration such as 30d", text.Quote(v))
	}
	return now.Add(d), nil
}
