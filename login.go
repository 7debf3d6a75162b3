package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/api"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// maxLoginLifetime is the longest session --expires may ask for, as in
// cryosparc-tools.
const maxLoginLifetime = 365 * 24 * time.Hour

// terminal asks a person for what a command is missing.
type terminal interface {
	Prompt(label string) (string, error)
	PromptPassword(label string) (string, error)
}

// ttyTerminal prompts on the controlling terminal, /dev/tty.
type ttyTerminal struct {
	f *os.File
	r *bufio.Reader
}

func openTTY() (terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(f.Fd())) {
		if f != nil {
			f.Close()
		}
		return nil, errors.New("no terminal")
	}
	return &ttyTerminal{f: f, r: bufio.NewReader(f)}, nil
}

func (t *ttyTerminal) Prompt(label string) (string, error) {
	fmt.Fprint(t.f, label)
	line, err := t.r.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func (t *ttyTerminal) PromptPassword(label string) (string, error) {
	fmt.Fprint(t.f, label)
	b, err := term.ReadPassword(int(t.f.Fd()))
	fmt.Fprintln(t.f)
	return string(b), err
}

func (e *env) terminal() (terminal, error) {
	if e.tty != nil {
		return e.tty()
	}
	return openTTY()
}

func loginCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "log in to CryoSPARC and store the session",
		Description: "Does what `python -m cryosparc.tools login` does: finds the login operation of <url>/api/cmd, " +
			"sends the email and the SHA-256 of the password, and stores the token in the session file. What is not " +
			"given is asked on the terminal, the password without echo. For scripts: --password-stdin, or the " +
			"environment variables CRYOSPARC_EMAIL and CRYOSPARC_PASSWORD. There is no password flag.",
		Flags: []cli.Flag{
			urlFlag("CryoSPARC web URL, e.g. https://cryosparc.example.com (http:// is added when there is no scheme)"),
			emailFlag("login email (default: $CRYOSPARC_EMAIL, else asked)"),
			&cli.StringFlag{Name: "expires", Usage: "session expiry date YYYY-MM-DD, midnight local time, at most one year ahead (default: 14 days from now)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			timeoutFlag(30*time.Second, "give up on the server after this long, e.g. 30s, 2m"),
		},
		Action: func(c *cli.Context) error { return e.login(c) },
	}
}

func (e *env) login(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("login takes no arguments (a password is never an argument); see `%s login --help`", name)
	}
	f, err := e.file(c)
	if err != nil {
		return err
	}
	now := e.now()
	lifetime := helper.DefaultLifetime
	if d := c.String("expires"); d != "" {
		day, err := time.ParseInLocation("2006-1-2", d, now.Location()) // as strptime %Y-%m-%d
		if err != nil {
			return usagef("--expires %s is not a date YYYY-MM-DD", text.Quote(d))
		}
		lifetime = day.Sub(now)
		if lifetime < time.Second || lifetime > maxLoginLifetime {
			return usagef("--expires %s must be a date in the future, at most one year from now (midnight local time)", d)
		}
	}
	url, email, password, err := e.loginInputs(c)
	if err != nil {
		return err
	}
	// Refuse before asking the server when the file cannot take the session.
	if err := f.CheckWritable(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration(c, "timeout"))
	defer cancel()
	client := &api.Client{URL: url, UserAgent: name + "/" + versionNumber(), HTTP: e.httpClient}
	// The server is asked for whole seconds, rounded up so that the token
	// lives at least until the expiry stored; that is now + the lifetime, in
	// UTC, whole seconds (with --expires, midnight exactly), as in
	// cryosparc-tools.
	tok, err := client.Login(ctx, email, password, (lifetime + time.Second - 1).Truncate(time.Second))
	if err != nil {
		return err
	}
	expires := store.ExpiryFromTime(now.Add(lifetime).UTC().Truncate(time.Second))
	return f.Login(e.stdout, store.Session{URL: url, Email: email, Token: tok.AccessToken, Expires: expires})
}

// loginInputs gathers the URL, email and password of a login from the
// flags, the environment, standard input (--password-stdin) and, for what
// is still missing, the terminal.
func (e *env) loginInputs(c *cli.Context) (url, email, password string, err error) {
	var tty terminal
	ask := func(label string, secret bool) (string, error) {
		if tty == nil {
			t, err := e.terminal()
			if err != nil {
				return "", usagef("no terminal to ask for the %s; give --url, --email and --password-stdin (or CRYOSPARC_EMAIL and CRYOSPARC_PASSWORD)", strings.ToLower(strings.TrimSuffix(label, ": ")))
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
			return "", usagef("no %s read from the terminal (%v)", strings.ToLower(strings.TrimSuffix(label, ": ")), err)
		}
		return v, nil
	}

	if url = c.String("url"); url == "" {
		url, err = helper.DefaultURL(e.lookup) // cryosparc-tools' own environment
		if err != nil {
			return "", "", "", err
		}
	}
	if url == "" {
		if url, err = ask("CryoSPARC URL: ", false); err != nil {
			return "", "", "", err
		}
	}
	if url, err = helper.InstanceURL(strings.TrimSpace(url)); err != nil {
		return "", "", "", err
	}

	if email = c.String("email"); email == "" {
		email, _ = e.lookup("CRYOSPARC_EMAIL")
	}
	if email == "" {
		if email, err = ask("Email: ", false); err != nil {
			return "", "", "", err
		}
	}
	if email == "" {
		return "", "", "", usagef("no email given")
	}
	if !helper.Carriable(email) {
		return "", "", "", usagef("the email holds a line break or NUL")
	}

	switch pw, inEnv := e.lookup("CRYOSPARC_PASSWORD"); {
	case c.Bool("password-stdin"):
		b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		if err != nil {
			return "", "", "", usagef("reading the password from standard input: %v", err)
		}
		password = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	case inEnv && pw != "":
		password = pw
	default:
		if password, err = ask("Password: ", true); err != nil {
			return "", "", "", err
		}
	}
	if password == "" {
		return "", "", "", usagef("the password is empty")
	}
	return url, email, password, nil
}
