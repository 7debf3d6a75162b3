package cmdline

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
)

// command is a command and its own flags, which newApp makes only for a
// command that may run.
type command struct {
	*cli.Command
	flags func() []cli.Flag // nil: none of its own
}

// commands are the program's commands, each wired to a method of
// helper.Commands: flags become the method's query, nothing else.
func commands(e *env) []command {
	protocolCommand := func(command, usage, usageText string, do func(*helper.Commands) error) command {
		return cmd(&cli.Command{Name: command, Usage: usage, UsageText: usageText,
			Action: e.action("it reads key=value lines on standard input", func(_ *cli.Context, f *helper.Commands) error { return do(f) })}, nil)
	}
	return []command{
		protocolCommand("get", "print the session for the url= and email= read on stdin",
			"printf 'url=https://cryosparc.example.com\\nemail=ali@example.com\\n' | "+helper.Name+" get",
			func(f *helper.Commands) error { return f.Get() }),
		protocolCommand("store", "store the session (url=, email=, access_token=, expires= or expires_in=) read on stdin",
			"printf 'url=…\\nemail=…\\naccess_token=…\\nexpires_in=3600\\n' | "+helper.Name+" store",
			func(f *helper.Commands) error { return f.Store() }),
		protocolCommand("erase", "erase the session(s) named by url=, email= (and access_token=) read on stdin",
			"printf 'url=…\\nemail=…\\n' | "+helper.Name+" erase",
			func(f *helper.Commands) error { return f.Erase() }),
		loginCommand(e),
		execCommand(e),
		cmd(&cli.Command{
			Name:      "logout",
			Usage:     "forget the session token would use (--url/--email, else cryosparc-tools' environment), or --all; the server keeps accepting a token until it expires",
			UsageText: helper.Name + " logout [--url URL] [--email EMAIL] | --all [--url URL] [--email EMAIL] [--yes]",
			Action: e.action("use --url, --email or --all", func(c *cli.Context, f *helper.Commands) error {
				return f.Logout(helper.LogoutQuery{URL: c.String("url"), Email: c.String("email"),
					All: c.Bool("all"), Yes: c.Bool("yes"), Confirm: e.confirm()})
			}),
		}, func() []cli.Flag {
			return []cli.Flag{
				urlFlag("erase the session of this instance (default: $CRYOSPARC_BASE_URL)"),
				emailFlag("erase the session of this email (default: $CRYOSPARC_EMAIL, else the instance's first)"),
				&cli.BoolFlag{Name: "all", Usage: "erase every session (only those of --url and/or --email when given); asks first on a terminal"},
				&cli.BoolFlag{Name: "yes", Usage: "with --all: do not ask (needed when there is no terminal)"},
			}
		}),
		cmd(&cli.Command{
			Name:      "token",
			Usage:     "print the bare token, or with --header an Authorization header for curl -H @-",
			UsageText: helper.Name + " token [--url URL] [--email EMAIL] [--min-ttl DURATION] [--header]",
			Action: e.action("use --url and --email", func(c *cli.Context, f *helper.Commands) error {
				return f.Token(helper.TokenQuery{URL: c.String("url"), Email: c.String("email"),
					MinTTL: duration(c, "min-ttl"), Header: c.Bool("header")})
			}),
		}, func() []cli.Flag {
			return []cli.Flag{
				urlFlag("instance URL (default: $CRYOSPARC_BASE_URL, else the first instance with a session)"),
				emailFlag("email (default: $CRYOSPARC_EMAIL, else the instance's first session)"),
				&cli.GenericFlag{Name: "min-ttl", Value: &durationFlag{}, Usage: "fail unless the session is valid for at least this long, e.g. 1h, 7d"},
				&cli.BoolFlag{Name: "header", Usage: "print \"Authorization: Bearer <token>\", for curl -H @- (keeps the token out of curl's arguments)"},
			}
		}),
		cmd(&cli.Command{
			Name:      "status",
			Usage:     "ask each instance whether it still accepts the stored sessions (never shows a token)",
			UsageText: helper.Name + " status [--url URL] [--email EMAIL] [--json] [--timeout DURATION]",
			Description: "For each stored session (or those of --url/--email), asks the server who the token belongs " +
				"to (the users.me operation of its API, found as login finds its own) and its version, and prints " +
				"instance, email, name, server version, expiry and valid, rejected by the server, unreachable, " +
				"expired, or \"valid for X, stored as Y\" when the server says the token is another user's. Every instance is asked " +
				"at once. Exits 0 when every session shown is valid, 4 when one was rejected, has expired or is another user's (log in again), else 6 when a server could not be reached (try again), 1 when none matches.",
			Action: e.action("use --url and --email", func(c *cli.Context, f *helper.Commands) error {
				return f.Status(helper.StatusQuery{URL: c.String("url"), Email: c.String("email"), JSON: c.Bool("json"),
					Timeout: duration(c, "timeout"), HTTP: e.httpClient, UserAgent: helper.Name + "/" + versionNumber(e.version)})
			}),
		}, func() []cli.Flag {
			return []cli.Flag{
				urlFlag("only this instance (default: $CRYOSPARC_BASE_URL, else every instance)"),
				emailFlag("only this email (default: $CRYOSPARC_EMAIL, else every email)"),
				jsonFlag("print a JSON array of {url, email, name, server_version, expires, expires_unix, seconds_left, status, detail}"),
				timeoutFlag(10*time.Second, "give up on each instance after this long (0 for no limit)"),
			}
		}),
		cmd(&cli.Command{
			Name:      "list",
			Usage:     "list the stored sessions: instance, email, expiry (never a token)",
			UsageText: helper.Name + " list [--url URL] [--email EMAIL] [--json]",
			Action: e.action("see --help", func(c *cli.Context, f *helper.Commands) error {
				return f.List(helper.ListQuery{URL: c.String("url"), Email: c.String("email"), JSON: c.Bool("json")})
			}),
		}, func() []cli.Flag {
			return []cli.Flag{
				urlFlag("only this instance (default: $CRYOSPARC_BASE_URL, else every instance)"),
				emailFlag("only this email (default: $CRYOSPARC_EMAIL, else every email)"),
				jsonFlag("print a JSON array of {url, email, expires, expires_unix, expired}"),
			}
		}),
		cmd(&cli.Command{
			// For shell completion: the stored URLs or emails, never a token.
			// With --url, the emails of that instance only.
			Name:   "__complete",
			Hidden: true,
			Action: func(c *cli.Context) error {
				f, err := e.file(c)
				if err != nil || c.NArg() != 1 || (c.Args().First() != "url" && c.Args().First() != "email") {
					return nil
				}
				return f.Values(c.Args().First(), c.String("url"))
			},
		}, func() []cli.Flag { return []cli.Flag{&cli.StringFlag{Name: "url"}} }),
		cmd(&cli.Command{
			Name:  "doctor",
			Usage: "check the session file (syntax, each entry, permissions, expired sessions); --fix repairs it",
			Description: "Exits 0 only when the file is healthy. --fix first copies the original to " +
				"a backup beside it, auth.json.bak-<UTC time> (-2, -3… when that name is taken; mode 0600), then writes back the valid part under the lock. " +
				"It never changes a file that does not look like a session file, nor turns a file that is " +
				"not JSON into an empty one, unless --force is given too.",
			Action: e.action("see --help", func(c *cli.Context, f *helper.Commands) error {
				return f.Doctor(helper.DoctorQuery{Fix: c.Bool("fix"), Force: c.Bool("force")})
			}),
		}, func() []cli.Flag {
			return []cli.Flag{
				&cli.BoolFlag{Name: "fix", Usage: "keep a backup of the file, then write back only its valid part, mode 0600"},
				&cli.BoolFlag{Name: "force", Usage: "with --fix: also replace a file that is not a session file or not JSON (a backup is kept)"},
			}
		}),
	}
}

func cmd(c *cli.Command, flags func() []cli.Flag) command { return command{c, flags} }

// action runs a command that takes no arguments (hint says what to use
// instead) on the session file the command line names.
func (e *env) action(hint string, run func(*cli.Context, *helper.Commands) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			// Never echo the arguments: a misplaced token would reach the terminal.
			return usagef("%s takes no arguments; %s", c.Command.Name, hint)
		}
		f, err := e.file(c)
		if err != nil {
			return err
		}
		return run(c, f)
	}
}

// Flags several commands share, each with its own usage text.
func urlFlag(usage string) cli.Flag   { return &cli.StringFlag{Name: "url", Usage: usage} }
func emailFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "email", Usage: usage} }
func jsonFlag(usage string) cli.Flag  { return &cli.BoolFlag{Name: "json", Usage: usage} }
func timeoutFlag(def time.Duration, usage string) cli.Flag {
	return &cli.GenericFlag{Name: "timeout", Value: &durationFlag{def}, Usage: usage}
}
