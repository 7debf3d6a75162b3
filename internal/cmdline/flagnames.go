package cmdline

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// namesOnce returns flags with the names of each worked out once.
// urfave/cli asks a flag for its names every time it looks at one, and
// each answer runs a regular expression (cli.FlagNames strips v1's "name,
// alias" form): a get asked about a hundred times, an eighth of its run
// after start-up (docs/performance.md, "Start-up"). The flags keep every
// other method of their type. Hidden boolean flags are left as they are,
// as bash completion tells them by their type (*cli.BoolFlag); so are
// the flags of App, whose man page and fish completion switch on the
// flags' types too.
func namesOnce(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			out[i] = stringFlag{f, flagNames(f.Name, f.Aliases)}
		case *cli.GenericFlag:
			out[i] = genericFlag{f, flagNames(f.Name, f.Aliases)}
		case *cli.BoolFlag:
			if f.Hidden {
				out[i] = f
			} else {
				out[i] = boolFlag{f, flagNames(f.Name, f.Aliases)}
			}
		default:
			out[i] = f
		}
	}
	return out
}

// flagNames is cli.FlagNames(name, aliases), without its regular
// expression for names it leaves as they are.
func flagNames(name string, aliases []string) []string {
	names := append([]string{name}, aliases...)
	for _, n := range names {
		if strings.ContainsAny(n, ", ") {
			return cli.FlagNames(name, aliases)
		}
	}
	return names
}

type stringFlag struct {
	*cli.StringFlag
	names []string
}

func (f stringFlag) Names() []string { return f.names }

type genericFlag struct {
	*cli.GenericFlag
	names []string
}

func (f genericFlag) Names() []string { return f.names }

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

func (f boolFlag) Names() []string { return f.names }
