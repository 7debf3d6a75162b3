package cmdline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestRunAsWholeApp: a run's app, which gives flags only to the commands
// its arguments name and works their names out once (newApp, namesOnce),
// answers every command line as the whole app does (App): the same
// output, errors and exit status, for help in every form, versions,
// mistakes, completion and commands that run.
func TestRunAsWholeApp(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	session := `{"https://cs.example.com": {"ali@example.com": {"token": {"access_token": "` + strings.Repeat("a", 40) +
		`", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	lines := [][]string{
		{}, {"--help"}, {"-h"}, {"help"}, {"h"}, {"help", "get"}, {"h", "login"}, {"help", "nosuch"},
		{"get", "--help"}, {"login", "-h"}, {"exec", "help"}, {"status", "h"}, {"--help", "list"},
		{"--version"}, {"list", "--version"}, {"-v"},
		{"gte"}, {"lgoin", "--help"}, {"nosuch"}, {"--file"}, {"--flie", "x", "list"},
		{"login", "--urll", "https://x"}, {"token", "--emial", "a@x"}, {"login", "--password", "x"},
		{"list", "--url="}, {"token", "--email", ""}, {"get", "extra"}, {"--lock-timeout", "x", "list"},
		{"--file", file, "list"}, {"--file=" + file, "list", "--json"}, {"list", "--file", file},
		{"--file", file, "token", "--url", "https://cs.example.com"}, {"--file", file, "token", "--header"},
		{"--file", file, "--lock-timeout", "2s", "doctor"}, {"--file", file, "__complete", "url"},
		{"--file", file, "__complete", "email"}, {"--file", "list", "list"}, {"--file=login", "list"},
		{"--generate-bash-completion"}, {"get", "--generate-bash-completion"}, {"login", "--generate-bash-completion"},
		{"--file", file, "logout", "--url", "https://nosuch.example.com"}, {"exec"}, {"exec", "--", "list"},
		{"--file", file, "get"},
	}
	run1 := func(args []string, whole bool) (string, string, int) {
		if err := os.WriteFile(file, []byte(session), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb strings.Builder
		e := Env{Stdin: strings.NewReader("url=https://cs.example.com\nemail=ali@example.com\n"), Stdout: &out, Stderr: &errb,
			Lookup: func(string) (string, bool) { return "", false }, Now: time.Now, Version: "1.2.3"}
		argv := append([]string{"cryosparc-credential"}, args...)
		appArgs := argv
		if whole {
			appArgs = nil
		}
		code := run(argv, e, appArgs)
		return out.String(), errb.String(), code
	}
	for _, args := range lines {
		o1, e1, c1 := run1(args, false)
		o2, e2, c2 := run1(args, true)
		if o1 != o2 || e1 != e2 || c1 != c2 {
			t.Errorf("%q: run's app: exit %d, %q, %q; the whole app: exit %d, %q, %q", args, c1, o1, e1, c2, o2, e2)
		}
	}
}

// TestNamesOnce: a flag whose names are worked out once has the names
// cli.FlagNames gives, and shows in help as the flag it wraps; a hidden
// boolean flag is left as it is (bash completion tells it by its type).
func TestNamesOnce(t *testing.T) {
	e := newEnv(Env{Stdin: strings.NewReader(""), Stdout: &strings.Builder{}, Stderr: &strings.Builder{}})
	var flags []cli.Flag
	for _, c := range commands(e) {
		if c.flags != nil {
			flags = append(flags, c.flags()...)
		}
	}
	flags = append(flags, globalFlags()...)
	flags = append(flags, &cli.BoolFlag{Name: "version", Hidden: true}, &cli.StringFlag{Name: "odd, name", Aliases: []string{"o"}})
	once := namesOnce(flags)
	if len(once) != len(flags) || len(flags) < 20 {
		t.Fatalf("%d flags, %d wrapped", len(flags), len(once))
	}
	for i, f := range flags {
		var want []string
		switch f := f.(type) {
		case *cli.StringFlag:
			want = cli.FlagNames(f.Name, f.Aliases)
		case *cli.BoolFlag:
			want = cli.FlagNames(f.Name, f.Aliases)
			if f.Hidden && once[i] != cli.Flag(f) {
				t.Errorf("hidden --%s wrapped", f.Name)
			}
		case *cli.GenericFlag:
			want = cli.FlagNames(f.Name, f.Aliases)
		}
		if got := once[i].Names(); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("names %q, want %q", got, want)
		}
		if once[i].String() != f.String() {
			t.Errorf("shown as %q, want %q", once[i].String(), f.String())
		}
		if _, ok := once[i].(cli.DocGenerationFlag); !ok {
			t.Errorf("--%s lost its help methods", f.Names()[0])
		}
	}
}
