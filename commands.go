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

	"github.com/cryosparc-credential/cryosparc-credential/api"
	"github.com/cryosparc-credential/cryosparc-credential/helper"
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

// commands are the program's commands, each wired to a method of
// helper.File.
func commands(e *env) []*cli.Command {
	noArgs := func(c *cli.Context, hint string) error {
		if c.NArg() > 0 {
			// Never echo the arguments: a misplaced token would reach the terminal.
			return usagef("%s takes no arguments; %s", c.Command.Name, hint)
		}
		return nil
	}
	protocolCommand := func(name, usage, usageText string, do func(*helper.File) error) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, UsageText: usageText,
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "it reads key=value lines on standard input"); err != nil {
					return err
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return do(f)
			},
		}
	}
	return []*cli.Command{
		protocolCommand("get", "print the session for the url= and email= read on stdin",
			"printf 'url=https://cryosparc.example.com\\nemail=ali@example.com\\n' | "+name+" get",
			func(f *helper.File) error { return f.Get(e.stdin, e.stdout) }),
		protocolCommand("store", "store the session (url=, email=, access_token=, expires= or expires_in=) read on stdin",
			"printf 'url=…\\nemail=…\\naccess_token=…\\nexpires_in=3600\\n' | "+name+" store",
			func(f *helper.File) error { return f.Store(e.stdin) }),
		protocolCommand("erase", "erase the session(s) named by url=, email= (and access_token=) read on stdin",
			"printf 'url=…\\nemail=…\\n' | "+name+" erase",
			func(f *helper.File) error { return f.Erase(e.stdin) }),
		loginCommand(e),
		{
			Name:      "logout",
			Usage:     "forget stored sessions by --url and/or --email, or --all (the server keeps accepting a token until it expires)",
			UsageText: name + " logout [--url URL] [--email EMAIL] | --all",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "url", Usage: "erase the sessions of this instance"},
				&cli.StringFlag{Name: "email", Usage: "erase the sessions of this email"},
				&cli.BoolFlag{Name: "all", Usage: "erase every session"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "use --url, --email or --all"); err != nil {
					return err
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return f.Logout(e.stdout, c.String("url"), c.String("email"), c.Bool("all"))
			},
		},
		{
			Name:      "token",
			Usage:     "print the bare token, or with --header an Authorization header for curl -H @-",
			UsageText: name + " token [--url URL] [--email EMAIL] [--min-ttl DURATION] [--header]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "url", Usage: "instance URL (default: the first instance with a session)"},
				&cli.StringFlag{Name: "email", Usage: "email (default: the instance's first session)"},
				&cli.GenericFlag{Name: "min-ttl", Value: &durationFlag{}, Usage: "fail unless the session is valid for at least this long, e.g. 1h, 7d"},
				&cli.BoolFlag{Name: "header", Usage: "print \"Authorization: Bearer <token>\", for curl -H @- (keeps the token out of curl's arguments)"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "use --url and --email"); err != nil {
					return err
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return f.Token(e.stdout, helper.TokenQuery{URL: c.String("url"), Email: c.String("email"),
					MinTTL: duration(c, "min-ttl"), Header: c.Bool("header")})
			},
		},
		{
			Name:      "status",
			Usage:     "ask each instance whether it still accepts the stored sessions (never shows a token)",
			UsageText: name + " status [--url URL] [--email EMAIL] [--json] [--timeout DURATION]",
			Description: "For each stored session (or those of --url/--email), asks the server who the token belongs " +
				"to (the users.me operation of its API, found as login finds its own) and its version, and prints " +
				"instance, email, name, server version, expiry and valid, rejected by the server, unreachable or " +
				"expired. Exits 0 only when every session shown is valid, 4 otherwise, 1 when none matches.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "url", Usage: "only this instance (default: $CRYOSPARC_BASE_URL, else every instance)"},
				&cli.StringFlag{Name: "email", Usage: "only this email"},
				&cli.BoolFlag{Name: "json", Usage: "print a JSON array of {url, email, name, server_version, expires, expires_unix, status, detail}"},
				&cli.GenericFlag{Name: "timeout", Value: &durationFlag{10 * time.Second}, Usage: "give up on each instance after this long"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "use --url and --email"); err != nil {
					return err
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return f.Status(e.stdout, helper.StatusQuery{URL: c.String("url"), Email: c.String("email"), JSON: c.Bool("json"),
					Timeout: duration(c, "timeout"), HTTP: e.httpClient, UserAgent: name + "/" + versionNumber()})
			},
		},
		{
			Name:  "list",
			Usage: "list the stored sessions: instance, email, expiry (never a token)",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "json", Usage: "print a JSON array of {url, email, expires, expires_unix, expired}"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "see --help"); err != nil {
					return err
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return f.List(e.stdout, c.Bool("json"))
			},
		},
		{
			Name:  "doctor",
			Usage: "check the session file (syntax, each entry, permissions, expired sessions); --fix repairs it",
			Description: "Exits 0 only when the file is healthy. --fix first copies the original to " +
				"auth.json.bak-<UTC timestamp> (mode 0600), then writes back the valid part under the lock. " +
				"It never changes a file that does not look like a session file, nor turns a file that is " +
				"not JSON into an empty one, unless --force is given too.",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "fix", Usage: "keep a backup of the file, then write back only its valid part, mode 0600"},
				&cli.BoolFlag{Name: "force", Usage: "with --fix: also replace a file that is not a session file or not JSON (a backup is kept)"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c, "see --help"); err != nil {
					return err
				}
				if c.Bool("force") && !c.Bool("fix") {
					return usagef("--force goes with --fix")
				}
				f, err := e.file(c)
				if err != nil {
					return err
				}
				return f.Doctor(e.stdout, c.Bool("fix"), c.Bool("force"))
			},
		},
	}
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
			&cli.StringFlag{Name: "url", Usage: "CryoSPARC web URL, e.g. https://cryosparc.example.com (http:// is added when there is no scheme)"},
			&cli.StringFlag{Name: "email", Usage: "login email (default: $CRYOSPARC_EMAIL, else asked)"},
			&cli.StringFlag{Name: "expires", Usage: "session expiry date YYYY-MM-DD, midnight local time, at most one year ahead (default: 14 days from now)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			&cli.GenericFlag{Name: "timeout", Value: &durationFlag{30 * time.Second}, Usage: "give up on the server after this long, e.g. 30s, 2m"},
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
		if secret {
			return tty.PromptPassword(label)
		}
		return tty.Prompt(label)
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
