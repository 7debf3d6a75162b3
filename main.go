// Command cryosparc-credential keeps CryoSPARC login sessions in the session
// file of cryosparc-tools and serves them over a git-credential-style
// key=value protocol on stdin and stdout.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/adrg/xdg"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cryosparc-credential/cryosparc-credential/api"
	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version recorded in the binary is used.
var version = ""

const name = "cryosparc-credential"

// Exit statuses.
const (
	exitOK       = 0
	exitNotFound = 1
	exitUsage    = 2
	exitFile     = 3
	exitLogin    = 4
)

func main() {
	// A run lasts milliseconds and allocates about a third of the session
	// file's size: collecting garbage would cost more than it saves. The
	// limit brings the collector back for a pathological file.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.LookupEnv, time.Now))
}

// env is what a command runs with: its streams, environment and clock, and
// for tests a terminal and an HTTP client of their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         store.Env
	now            func() time.Time
	tty            func() (terminal, error) // nil: /dev/tty
	httpClient     *http.Client             // nil: the API client's default
}

// run runs the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookup store.Env, now func() time.Time) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, lookup: lookup, now: now}
	return report(stderr, newApp(e).Run(args))
}

// usageError is a command line that cannot be run as given.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// report prints err as one line on stderr and returns its exit status: the
// one place where errors become exit codes.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitFile
	var usage *usageError
	var cliExit cli.ExitCoder // urfave/cli's own, such as "No help topic"
	var invalid *store.InvalidError
	hint := ""
	switch {
	case errors.Is(err, helper.ErrNotFound):
		code = exitNotFound
	case errors.As(err, &usage), errors.As(err, &cliExit), errors.Is(err, helper.ErrBadInput),
		errors.Is(err, protocol.ErrBadInput), errors.Is(err, store.ErrBadURL), errors.Is(err, store.ErrNotUTF8):
		code = exitUsage
	case errors.As(err, &invalid):
		code = exitFile
		hint = "; it was left unchanged: run `" + name + " doctor` to see every problem, `" + name + " doctor --fix` to keep only the valid entries"
	case errors.Is(err, api.ErrLogin):
		code = exitLogin
	case errors.Is(err, fs.ErrPermission):
		hint = "; check the owner and permissions of the file and its folder (ls -ld)"
	}
	if helper.IsSilent(err) {
		return code
	}
	msg := strings.ReplaceAll(err.Error()+hint, "\n", " ")
	fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	return code
}

// versionNumber is the program's version: set at build time, else the
// module version recorded in the binary.
func versionNumber() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	// Built from a clone: name the commit.
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	return "devel-" + rev + dirty
}

func versionString() string {
	return fmt.Sprintf("%s (%s %s/%s)", versionNumber(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newApp(e *env) *cli.App {
	onUsage := func(c *cli.Context, err error, isSubcommand bool) error {
		return usagef("%v; run `%s --help` for usage", err, name)
	}
	app := &cli.App{
		Name:                 name,
		Usage:                "keep CryoSPARC login sessions in cryosparc-tools' session file and serve tokens to scripts and git",
		Version:              versionString(),
		EnableBashCompletion: true,
		Reader:               e.stdin,
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		Description: "Sessions live in the file cryosparc-tools uses (python -m cryosparc.tools login), so a session " +
			"stored by either is seen by the other. get, store and erase read key=value lines on standard input, " +
			"like git credential helpers.\n\nExit status: 0 done, 1 nothing found, 2 bad usage or input, " +
			"3 the session file cannot be read or written safely, 4 the login failed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "session file to use (default: $CRYOSPARC_AUTH_FILE, else cryosparc-tools' auth.json)", TakesFile: true},
			&cli.DurationFlag{Name: "lock-timeout", Value: 10 * time.Second, Usage: "how long to wait for another process's lock on the session file"},
		},
		Commands: []*cli.Command{
			{
				Name:      "get",
				Usage:     "print the session for the url= and email= read on stdin",
				UsageText: "printf 'url=https://cryosparc.example.com\\nemail=ali@example.com\\n' | " + name + " get",
				Action:    e.withHelper(func(h *helper.Helper) error { return h.Get(e.stdin, e.stdout) }),
			},
			{
				Name:      "store",
				Usage:     "store the session (url=, email=, access_token=, expires= or expires_in=) read on stdin",
				UsageText: "printf 'url=…\\nemail=…\\naccess_token=…\\nexpires_in=3600\\n' | " + name + " store",
				Action:    e.withHelper(func(h *helper.Helper) error { return h.Store(e.stdin) }),
			},
			{
				Name:      "erase",
				Usage:     "erase the session(s) named by url=, email= (and access_token=) read on stdin",
				UsageText: "printf 'url=…\\nemail=…\\n' | " + name + " erase",
				Action:    e.withHelper(func(h *helper.Helper) error { return h.Erase(e.stdin) }),
			},
			loginCommand(e),
			logoutCommand(e),
			tokenCommand(e),
			listCommand(e),
			doctorCommand(e),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				// Name it only if it looks like a command: it could be a
				// token pasted in the wrong place.
				if arg := c.Args().First(); looksLikeCommand(arg) {
					return usagef("unknown command %q; run `%s --help` for the commands", arg, name)
				}
				return usagef("unknown command; run `%s --help` for the commands", name)
			}
			return usagef("no command given; run `%s --help` for the commands", name)
		},
		OnUsageError: onUsage,
		// urfave/cli would print exit-coded errors itself and call os.Exit;
		// every error comes back to report instead.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = onUsage
	}
	return app
}

// path returns the session file the command line names.
func (e *env) path(c *cli.Context) string {
	if f := c.String("file"); f != "" {
		return f
	}
	return store.DefaultPath(runtime.GOOS, e.lookup, xdg.Home)
}

func (e *env) options(c *cli.Context) store.Options {
	return store.Options{
		Now:         e.now,
		LockTimeout: c.Duration("lock-timeout"),
		Warn:        func(msg string) { fmt.Fprintf(e.stderr, "%s: warning: %s\n", name, msg) },
	}
}

// withHelper runs a protocol command with a helper for the session file.
func (e *env) withHelper(action func(*helper.Helper) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			// Never echo the arguments: a misplaced token would reach the terminal.
			return usagef("%s takes no arguments; it reads key=value lines on standard input", c.Command.Name)
		}
		return action(&helper.Helper{
			Path:            e.path(c),
			Options:         e.options(c),
			Stderr:          e.stderr,
			StdinIsTerminal: isTerminal(e.stdin),
		})
	}
}

func looksLikeCommand(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
