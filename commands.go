package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cryosparc-credential/cryosparc-credential/api"
	"github.com/cryosparc-credential/cryosparc-credential/helper"
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
			&cli.StringFlag{Name: "url", Usage: "CryoSPARC web URL, e.g. https://cryosparc.example.com (http:// is added when there is no scheme)"},
			&cli.StringFlag{Name: "email", Usage: "login email (default: $CRYOSPARC_EMAIL, else asked)"},
			&cli.StringFlag{Name: "expires", Usage: "session expiry date YYYY-MM-DD, midnight local time, at most one year ahead (default: 14 days from now)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up on the server after this long"},
		},
		Action: func(c *cli.Context) error { return e.login(c) },
	}
}

func (e *env) login(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("login takes no arguments (a password is never an argument); see `%s login --help`", name)
	}
	now := e.now()
	lifetime := helper.DefaultLifetime
	if d := c.String("expires"); d != "" {
		day, err := time.ParseInLocation("2006-1-2", d, now.Location()) // as strptime %Y-%m-%d
		if err != nil {
			return usagef("--expires %q is not a date YYYY-MM-DD", d)
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

	path := e.path(c)
	opt := e.options(c)
	// Refuse before asking the server when the file cannot take the session.
	if _, err := store.Load(path, &opt); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Duration("timeout"))
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
	var stored string
	err = store.Update(path, &opt, func(s *store.Sessions) error {
		if err := s.Insert(store.Session{URL: url, Email: email, Token: tok.AccessToken, Expires: expires}); err != nil {
			return err
		}
		sess, _ := s.Find(url, email)
		stored = sess.URL
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Logged in to %s as %s. Session saved to %s; it expires %s (%s).\n",
		stored, email, path, expires.Time().Format("2006-01-02 15:04:05 MST"), relative(expires.Time(), now))
	return nil
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
		if url, err = ask("CryoSPARC URL: ", false); err != nil {
			return "", "", "", err
		}
	}
	url = store.WithScheme(strings.TrimSpace(url))
	if _, err := store.CanonicalURL(url); err != nil {
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

	switch pw, inEnv := e.lookup("CRYOSPARC_PASSWORD"); {
	case c.Bool("password-stdin"):
		b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		if err != nil {
			return "", "", "", fmt.Errorf("reading the password from standard input: %w", err)
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

// relative says when t is, seen from now: "in 13 days", "expired".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "expired"
	}
	// To the nearest unit: a 14-day session is "in 14 days" a moment later.
	unit := func(n int64, what string) string {
		if n == 1 {
			return fmt.Sprintf("in 1 %s", what)
		}
		return fmt.Sprintf("in %d %ss", n, what)
	}
	round := func(u time.Duration) int64 { return int64((d + u/2) / u) }
	switch {
	case d >= 48*time.Hour:
		return unit(round(24*time.Hour), "day")
	case d >= 2*time.Hour:
		return unit(round(time.Hour), "hour")
	case d >= 2*time.Minute:
		return unit(round(time.Minute), "minute")
	}
	return unit(round(time.Second), "second")
}

func tokenCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "token",
		Usage:     "print the bare token, for curl -H \"Authorization: Bearer $(" + name + " token)\"",
		UsageText: name + " token [--url URL] [--email EMAIL] [--min-ttl DURATION]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "instance URL (default: the first instance with a session)"},
			&cli.StringFlag{Name: "email", Usage: "email (default: the instance's first session)"},
			&cli.DurationFlag{Name: "min-ttl", Usage: "fail unless the session is valid for at least this long (e.g. 1h)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("token takes no arguments; use --url and --email")
			}
			opt := e.options(c)
			url, email := store.WithScheme(c.String("url")), c.String("email")
			sess, ok, err := store.Lookup(e.path(c), &opt, url, email)
			if err != nil && !servable(err) {
				return err
			}
			if err != nil {
				opt.Warn(err.Error() + "; serving the valid entries (run " + name + " doctor)")
			}
			if !ok {
				if url == "" && email == "" {
					return fmt.Errorf("%w; log in first (%s login)", helper.ErrNotFound, name)
				}
				return helper.NotFound(url, email)
			}
			if ttl := c.Duration("min-ttl"); ttl > 0 {
				if left := sess.Expires.Time().Sub(e.now()); left < ttl {
					return fmt.Errorf("%w: the session of %s for %s expires %s, sooner than --min-ttl %s; log in again (%s login)",
						helper.ErrNotFound, sess.Email, sess.URL, relative(sess.Expires.Time(), e.now()), ttl, name)
				}
			}
			if strings.ContainsAny(sess.Token, "\r\n") {
				return fmt.Errorf("the stored token of %s for %s holds a line break and cannot be printed on one line", sess.Email, sess.URL)
			}
			_, err = fmt.Fprintln(e.stdout, sess.Token)
			return err
		},
	}
}

func servable(err error) bool {
	var inv *store.InvalidError
	return errors.As(err, &inv) && !inv.Syntax()
}

// listed is one session as list --json shows it: never a token.
type listed struct {
	URL         string `json:"url"`
	Email       string `json:"email"`
	Expires     string `json:"expires"`
	ExpiresUnix int64  `json:"expires_unix"`
	Expired     bool   `json:"expired"`
}

func listCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the stored sessions: instance, email, expiry (never a token)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array of {url, email, expires, expires_unix, expired}"},
		},
		Action: func(c *cli.Context) error {
			now := e.now()
			opt := e.options(c)
			opt.Now = func() time.Time { return time.Time{} } // keep expired sessions, to show them
			s, err := store.Load(e.path(c), &opt)
			if err != nil && !servable(err) {
				return err
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "%s: warning: %v; listing the valid entries (run %s doctor)\n", name, err, name)
			}
			sessions := s.All()
			var rows []listed
			for _, sess := range sessions {
				rows = append(rows, listed{URL: sess.URL, Email: sess.Email, Expires: sess.Expires.String(),
					ExpiresUnix: sess.Expires.Unix(), Expired: !sess.Expires.Live(now)})
			}
			if c.Bool("json") {
				if rows == nil {
					rows = []listed{}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(e.stderr, "%s: no sessions in %s; log in with `%s login`\n", name, e.path(c), name)
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "INSTANCE\tEMAIL\tEXPIRES\t")
			for i, r := range rows {
				t := sessions[i].Expires.Time().Local()
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.URL, r.Email, t.Format("2006-01-02 15:04 MST"), relative(t, now))
			}
			return tw.Flush()
		},
	}
}

func logoutCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "erase stored sessions by --url and/or --email, or --all",
		UsageText: name + " logout [--url URL] [--email EMAIL] | --all",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "erase the sessions of this instance"},
			&cli.StringFlag{Name: "email", Usage: "erase the sessions of this email"},
			&cli.BoolFlag{Name: "all", Usage: "erase every session"},
		},
		Action: func(c *cli.Context) error {
			url, email, all := store.WithScheme(c.String("url")), c.String("email"), c.Bool("all")
			switch {
			case c.NArg() > 0:
				return usagef("logout takes no arguments; use --url, --email or --all")
			case all && (url != "" || email != ""):
				return usagef("give --all alone, or --url and/or --email")
			case !all && url == "" && email == "":
				return usagef("say which sessions to erase: --url and/or --email, or --all")
			}
			if url != "" {
				if _, err := store.CanonicalURL(url); err != nil {
					return err
				}
			}
			opt := e.options(c)
			removed := 0
			err := store.Update(e.path(c), &opt, func(s *store.Sessions) error {
				if all {
					removed = s.Len()
					if len(s.Instances()) == 0 {
						return store.ErrNoChange
					}
					*s = store.Sessions{}
					return nil
				}
				before := s.Len()
				if s.Erase(store.Filter{URL: url, Email: email}) == 0 {
					return store.ErrNoChange
				}
				removed = before - s.Len()
				return nil
			})
			if err != nil {
				return err
			}
			if removed == 0 {
				fmt.Fprintf(e.stderr, "%s: no session matched; nothing erased\n", name)
				return nil
			}
			fmt.Fprintf(e.stdout, "Erased %d session(s).\n", removed)
			return nil
		},
	}
}

// errUnhealthy is what doctor returns when it found problems.
var errUnhealthy = errors.New("the session file has problems")

func doctorCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the session file (syntax, each entry, permissions, expired sessions); --fix repairs it",
		Description: "Exits 0 only when the file is healthy. --fix first copies the original to " +
			"auth.json.bak-<UTC timestamp> (mode 0600), then writes back the valid part under the lock.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "fix", Usage: "keep a backup of the file, then write back only its valid part, mode 0600"},
		},
		Action: func(c *cli.Context) error {
			path := e.path(c)
			if c.Bool("fix") {
				opt := e.options(c)
				opt.Warn = nil
				backup, err := store.Repair(path, &opt)
				if backup != "" {
					fmt.Fprintf(e.stdout, "Kept the original as %s.\n", backup)
				}
				if err != nil {
					return err
				}
				if backup != "" {
					fmt.Fprintf(e.stdout, "Rewrote %s with its valid part.\n", path)
				}
			}
			return e.doctor(path)
		},
	}
}

// doctor reports on the file at path and returns errUnhealthy when it has
// problems.
func (e *env) doctor(path string) error {
	out := e.stdout
	fmt.Fprintf(out, "Checking %s\n", path)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(out, "  ok: there is no session file yet (it is created at the first login or store)")
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnsafe, err)
	}
	problems := 0
	report := func(format string, a ...any) {
		problems++
		fmt.Fprintf(out, "  problem: "+format+"\n", a...)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		report("permissions %#o let others read it; run: chmod 600 %s", perm, path)
	}
	if di, err := os.Stat(filepath.Dir(path)); err == nil && di.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(out, "  note: its folder has permissions %#o; 0700 keeps others from listing it\n", di.Mode().Perm())
	}
	keepAll := store.Options{Now: func() time.Time { return time.Time{} }}
	s, err := store.Load(path, &keepAll)
	var inv *store.InvalidError
	switch {
	case errors.As(err, &inv):
		for _, p := range inv.Problems {
			report("%s", p)
		}
		if inv.Syntax() {
			fmt.Fprintln(out, "  The file is not valid JSON: cryosparc-tools ignores all of it and will overwrite it at its next login.")
		} else {
			fmt.Fprintln(out, "  cryosparc-tools rejects the whole file while one entry is invalid (and will overwrite it at its next login).")
		}
	case err != nil:
		return err
	default:
		fmt.Fprintln(out, "  ok: valid for cryosparc-tools")
	}
	now := e.now()
	live, expired := 0, 0
	for _, sess := range s.All() {
		if sess.Expires.Live(now) {
			live++
			continue
		}
		expired++
		fmt.Fprintf(out, "  note: the session of %s for %s expired %s (cryosparc-tools ignores it; --fix removes it)\n", sess.Email, sess.URL, sess.Expires)
	}
	fmt.Fprintf(out, "  %d live session(s), %d expired\n", live, expired)
	if problems > 0 {
		return fmt.Errorf("%w: %d problem(s) in %s; run `%s doctor --fix` to keep a backup and write back the valid part", errUnhealthy, problems, path, name)
	}
	return nil
}
