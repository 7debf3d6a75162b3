// Package cmdline is the command line of cryosparc-credential: its flags
// and commands (urfave/cli), prompts and password sources, exec, durations
// with days, the streams closed at start, and report, where an error
// becomes one line on stderr and an exit status. package main calls Main;
// the decisions of what a command does are helper's.
package cmdline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/adrg/xdg"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Exit statuses.
const (
	exitOK       = 0
	exitNotFound = 1
	exitUsage    = 2
	exitFile     = 3
	exitLogin    = 4
	exitOutput   = 5
	exitNetwork  = 6
)

// Main runs the program with the process's arguments, streams and
// environment and returns its exit status. version is the one stamped at
// build time (-X main.version=…), or "" for the module version recorded in
// the binary.
func Main(version string) int {
	growStack(len(version))
	// A run lasts milliseconds and allocates about a third of the session
	// file's size: collecting garbage would cost more than it saves. The
	// limit brings the collector back for a pathological file.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
	// A closed pipe on standard output is an error to report (exit 5),
	// not a signal that kills the program. Ignore, not Notify: Notify
	// starts two goroutines, one on a thread of its own, a tenth of a
	// `get`'s start-up (docs/performance.md). An ignored signal is
	// inherited by the programs this one starts, so restoreSIGPIPE undoes
	// it before each.
	signal.Ignore(syscall.SIGPIPE)
	var stdin io.Reader = os.Stdin
	var stdout io.Writer = os.Stdout
	if closedAtStart(0) {
		stdin = closedStream{errkind.New(errkind.BadInput, "standard input is closed")}
	}
	if closedAtStart(1) {
		stdout = closedStream{errkind.New(errkind.Output, "standard output is closed")}
	}
	return Run(os.Args, Env{Stdin: stdin, Stdout: stdout, Stderr: os.Stderr, Lookup: os.LookupEnv, Now: time.Now, Version: version})
}

// restoreSIGPIPE gives SIGPIPE a handler again (Main ignores it), so that
// a program this one starts (exec's command, the password command) gets
// the default action, as a handled signal is reset by execve and an
// ignored one is not. Called just before starting one.
func restoreSIGPIPE() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) }

// closedFDs are the standard streams that were closed when the program
// started: exec closes them again for its command, as the shell meant.
func closedFDs(e *env) []int {
	var fds []int
	if _, ok := e.io.In.(closedStream); ok {
		fds = append(fds, 0)
	}
	if c, ok := e.io.Out.(*checkedWriter); ok {
		if _, ok := c.w.(closedStream); ok {
			fds = append(fds, 1)
		}
	}
	return fds
}

// closedStream stands for a standard stream that was closed when the
// program started: every read or write fails with err.
type closedStream struct{ err error }

func (c closedStream) Read([]byte) (int, error)  { return 0, c.err }
func (c closedStream) Write([]byte) (int, error) { return 0, c.err }

// checkedWriter remembers the first error of a write, so that output lost
// by a command that does not check every write is still an error.
type checkedWriter struct {
	w    io.Writer
	err  error
	help bool // help was written to it
}

// Help is marked on the writer it goes to: help cut short by a closed pipe
// (`--help | head -1`) is not an error.
func init() {
	printer := cli.HelpPrinter
	cli.HelpPrinter = func(w io.Writer, templ string, data any) {
		if c, ok := w.(*checkedWriter); ok {
			c.help = true
		}
		printer(w, templ, data)
	}
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// Env is what a run gets from outside: its streams, environment, clock and
// version, and for tests a terminal and an HTTP client of their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Lookup         func(key string) (string, bool)
	Now            func() time.Time
	Version        string                   // "": the module version recorded in the binary
	TTY            func() (Terminal, error) // nil: /dev/tty
	HTTPClient     *http.Client             // nil: the API client's default
}

// env is what a command runs with: Env, standard output checked, its
// streams made once into the value helper takes.
type env struct {
	io         helper.IOStreams
	lookup     func(key string) (string, bool)
	now        func() time.Time
	version    string
	tty        func() (Terminal, error)
	httpClient *http.Client
}

func newEnv(e Env) *env {
	streams := helper.IOStreams{In: e.Stdin, Out: e.Stdout, ErrOut: e.Stderr,
		InTTY: isTerminal(e.Stdin), OutTTY: isTerminal(e.Stdout), ErrTTY: isTerminal(e.Stderr)}
	return &env{io: streams, lookup: e.Lookup, now: e.Now, version: e.Version, tty: e.TTY, httpClient: e.HTTPClient}
}

// Run runs the command line args (the program's name first) and returns
// the exit status.
func Run(args []string, e Env) int { return run(args, e, args) }

// run is Run with the app newApp makes for appArgs: args, or nil for the
// whole app, as App makes it (which tests compare Run with).
func run(args []string, e Env, appArgs []string) int {
	out := &checkedWriter{w: e.Stdout}
	e.Stdout = out
	err := newApp(newEnv(e), appArgs).Run(args)
	if out.help && errors.Is(out.err, syscall.EPIPE) && (err == nil || errors.Is(err, syscall.EPIPE)) {
		// The reader of the help had read enough (`--help | head -1`).
		return exitOK
	}
	if err == nil && out.err != nil {
		err = errkind.Errorf(errkind.Output, "writing the output: %w", out.err)
	}
	return report(e.Stderr, err)
}

// App is the command line's definition, for generating the man page and
// the completion scripts from it.
func App(e Env) *cli.App { return newApp(newEnv(e), nil) }

// usagef returns a bad-usage error (exit 2).
func usagef(format string, a ...any) error { return errkind.Errorf(errkind.BadInput, format, a...) }

// errVersionShown ends a command whose --version was given after it: the
// version was printed, nothing else is to be done.
var errVersionShown = errors.New("version shown")

// report prints err as one line on stderr and returns its exit status: the
// one place where errors become exit codes.
func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errVersionShown) {
		return exitOK
	}
	var cliExit cli.ExitCoder // urfave/cli's own, such as "No help topic"
	var status exitStatus
	var invalid *store.InvalidError
	code, hint := exitFile, ""
	switch kind := errkind.Of(err); {
	case kind == errkind.NotFound:
		code = exitNotFound
	case kind == errkind.BadInput, errors.As(err, &cliExit):
		code = exitUsage
	case kind == errkind.Login:
		code = exitLogin
	case kind == errkind.Unreachable:
		code = exitNetwork
	case kind == errkind.Output:
		code = exitOutput
	case kind == errkind.File:
		code = exitFile
		switch {
		case errors.As(err, &invalid) && !invalid.Foreign() && !errors.Is(err, helper.ErrUnhealthy):
			hint = "; it was left unchanged: run `" + helper.Name + " doctor` to see every problem, `" + helper.Name + " doctor --fix` to keep only the valid entries"
		case errors.As(err, &invalid) && invalid.Foreign():
			hint = "; check --file and $CRYOSPARC_AUTH_FILE"
		case errors.Is(err, store.ErrLockTimeout):
			hint = "; retry, or give --lock-timeout a longer wait"
		case errors.Is(err, fs.ErrPermission):
			hint = "; check the owner and permissions of the file and its folder (ls -ld)"
		}
	case errors.As(err, &status):
		return int(status) // exec's command, run as a child, said it all
	default:
		// Every error is made of one kind; one that is not is a fault
		// here, said as such rather than passed off as a file problem.
		code, hint = exitFile, " (an error of no known kind: please report it)"
	}
	if helper.IsSilent(err) {
		return code
	}
	_, _ = fmt.Fprintf(stderr, "%s: %s\n", helper.Name, oneLine(err.Error()+hint)) // the exit status still tells
	return code
}

// oneLine makes a message safe for one line on a terminal, whatever it
// holds: line breaks become spaces, and every other control character (an
// escape sequence from a server's answer, say) is shown escaped, so that
// no path can forget it.
func oneLine(msg string) string {
	var b strings.Builder
	for _, r := range msg {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case !text.Printable(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// versionNumber is the program's version: set at build time, else the
// module version recorded in the binary.
func versionNumber(version string) string {
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

func versionString(version string) string {
	return fmt.Sprintf("%s (%s %s/%s)", versionNumber(version), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// globalFlags are accepted before the command and after it.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Usage: "session file to use (default: $CRYOSPARC_AUTH_FILE, else cryosparc-tools' auth.json)", TakesFile: true},
		&cli.GenericFlag{Name: "lock-timeout", Value: &durationFlag{store.DefaultLockTimeout}, Usage: "how long to wait for another process's lock on the session file, e.g. 10s, 2m (0: try once)"},
	}
}

// newApp is the command line for args, or the whole of it for args nil.
// Only the commands args name get their flags: one command runs, and help
// and dispatch read of the others only their names and usage (every
// command's flags cost a get 3% of its start-up: docs/performance.md,
// "Start-up"). A command is named when an argument is its name or alias,
// so whichever command urfave/cli runs, shows the help of (`help CMD`,
// `CMD --help`) or completes has its flags.
func newApp(e *env, args []string) *cli.App {
	onUsage := func(c *cli.Context, err error, isSubcommand bool) error {
		msg := strings.Replace(err.Error(), " -", " --", 1)
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
			flags := c.App.Flags
			if c.Command != nil && c.Command.Name != "" && c.Command.Name != helper.Name {
				flags = c.Command.Flags
			}
			msg += unknownFlagHint(strings.TrimPrefix(name, "-"), flags)
		}
		if c.Command != nil && c.Command.Name != "" && c.Command.Name != helper.Name {
			return usagef("%s; run `%s %s --help` for its usage", msg, helper.Name, c.Command.Name)
		}
		return usagef("%s; run `%s --help` for usage", msg, helper.Name)
	}
	app := &cli.App{
		Name:                 helper.Name,
		Usage:                "keep CryoSPARC login sessions in cryosparc-tools' session file and serve tokens to scripts and git",
		Version:              versionString(e.version),
		EnableBashCompletion: true,
		// Never shown; set, so that urfave/cli does not stat the executable
		// for it on every run.
		Compiled:  time.Unix(0, 0),
		Reader:    e.io.In,
		Writer:    e.io.Out,
		ErrWriter: e.io.ErrOut,
		Description: "Sessions live in the file cryosparc-tools uses (python -m cryosparc.tools login), so a session " +
			"stored by either is seen by the other. get, store and erase read key=value lines on standard input, " +
			"like git credential helpers.\n\nExit status: 0 done, 1 nothing found, 2 bad usage or input, " +
			"3 the session file cannot be read or written safely, 4 the server refused (log in again), 5 the output could not be written, " +
			"6 the server could not be reached or did not answer as CryoSPARC (retry). Which session a command means: its own --url/--email " +
			"(or url=/email=), else CRYOSPARC_BASE_URL (or CRYOSPARC_MASTER_HOSTNAME/CRYOSPARC_BASE_PORT) and CRYOSPARC_EMAIL, " +
			"else the first session, as cryosparc-tools' CryoSPARC() chooses.",
		Flags: globalFlags(),

		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				// Name it only if it looks like a command: it could be a
				// token pasted in the wrong place.
				if arg := c.Args().First(); looksLikeCommand(arg) {
					if near := nearestCommand(arg, c.App.Commands); near != "" {
						return usagef("unknown command %q; did you mean %s? (`%s --help` lists the commands)", arg, near, helper.Name)
					}
					return usagef("unknown command %q; run `%s --help` for the commands", arg, helper.Name)
				}
				return usagef("unknown command; run `%s --help` for the commands", helper.Name)
			}
			return usagef("no command given; run `%s --help` for the commands", helper.Name)
		},
		OnUsageError: onUsage,
		// urfave/cli would print exit-coded errors itself and call os.Exit;
		// every error comes back to report instead.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	for _, c := range commands(e) {
		cmd := c.Command
		app.Commands = append(app.Commands, cmd)
		if args != nil && (len(args) < 2 || !slices.ContainsFunc(args[1:], cmd.HasName)) {
			continue
		}
		if c.flags != nil {
			cmd.Flags = c.flags()
		}
		cmd.OnUsageError = onUsage
		cmd.Flags = append(cmd.Flags, globalFlags()...)
		// --version after the command too, as the spec's global flags are.
		cmd.Flags = append(cmd.Flags, &cli.BoolFlag{Name: "version", Hidden: true})
		cmd.Before = func(c *cli.Context) error {
			if c.Bool("version") {
				cli.VersionPrinter(c)
				return errVersionShown
			}
			return explicitlyEmpty(c)
		}
		if args != nil {
			cmd.Flags = namesOnce(cmd.Flags)
		}
	}
	if args != nil {
		app.Flags = namesOnce(app.Flags)
	}
	return app
}

// explicitlyEmpty refuses an --url or --email given an empty value
// (helper.CheckGiven).
func explicitlyEmpty(c *cli.Context) error {
	for _, name := range []string{"url", "email"} {
		if err := helper.CheckGiven(name, c.IsSet(name), c.String(name)); err != nil {
			return err
		}
	}
	return nil
}

// flag returns the value of a flag given before or after the command: the
// innermost place it was set, else its default.
func flagCtx(c *cli.Context, flag string) *cli.Context {
	for _, x := range c.Lineage() {
		for _, n := range x.LocalFlagNames() {
			if n == flag {
				return x
			}
		}
	}
	return c
}

// file returns the helper for the session file the command line names.
func (e *env) file(c *cli.Context) (*helper.Commands, error) {
	path := flagCtx(c, "file").String("file")
	if path == "" {
		path = store.DefaultPath(runtime.GOOS, e.lookup, e.home())
	}
	if err := store.CheckPath(path); err != nil {
		return nil, err
	}
	timeout := duration(flagCtx(c, "lock-timeout"), "lock-timeout") // never negative: parseDuration refuses it
	return &helper.Commands{
		Path:    path,
		Options: store.Options{Now: e.now, LockTimeout: timeout},
		Env:     e.lookup,
		IO:      e.io,
	}, nil
}

// home is the user's home folder: $HOME from the environment given, else
// what the system says.
func (e *env) home() string {
	if h, ok := e.lookup("HOME"); ok && h != "" {
		return h
	}
	return xdg.Home
}

// unknownFlagHint says what a mistyped flag probably meant: for a password
// flag, that there is none and what to use; else the flag within two edits
// of name (--urll: --url), if any.
func unknownFlagHint(name string, flags []cli.Flag) string {
	if strings.HasPrefix(name, "pass") || name == "pw" {
		return " (there is no password flag: a process's arguments are visible to every user of the machine; use --password-command CMD, --password-stdin, $" + helper.EnvPassword + ", or answer the prompt)"
	}
	best, bestDist := "", 3
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) < 2 {
				continue
			}
			if d := editDistance(name, n); d < bestDist {
				best, bestDist = n, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// nearestCommand returns the command whose name is within two edits of
// typed (gte → get), or "".
func nearestCommand(typed string, commands []*cli.Command) string {
	best, bestDist := "", 3
	for _, c := range commands {
		if d := editDistance(typed, c.Name); d < bestDist {
			best, bestDist = c.Name, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (adjacent swaps count
// one) between two short ASCII words.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
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

func isTerminal(stream any) bool {
	if c, ok := stream.(*checkedWriter); ok {
		stream = c.w
	}
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// growStack takes the stack a command needs once, while it is shallow.
// A goroutine's stack doubles each time it runs out, and each time every
// frame on it is copied and its pointers found through the binary's
// tables: a command reaching 16 KiB deep from 8 KiB did that for some 30
// frames, 5 page faults of tables a start-up touches for nothing else
// (docs/performance.md, "Start-up"). Here it is done for three frames.
//
//go:noinline
func growStack(i int) byte {
	var b [12 << 10]byte // with what is below it, under 16 KiB
	b[i%len(b)] = 1      // used, so that the compiler keeps the frame
	return b[(i*7)%len(b)]
}
