// Command stackfloor is the floor of the program's own stack: it links the
// libraries cryosparc-credential links (urfave/cli, adrg/xdg, gofrs/flock,
// golang.org/x/term, net/http and crypto for login), runs a urfave/cli app
// with one command, and that command only reads standard input. Built as the
// binary is built, it is what any program of this stack costs before doing
// its own work: the benchmark's baseline for cryosparc-credential's share.
package main

import (
	"crypto/sha256"
	"io"
	"net/http"
	"os"

	"github.com/adrg/xdg"
	"github.com/gofrs/flock"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func main() {
	app := &cli.App{
		Name:  "stackfloor",
		Flags: []cli.Flag{&cli.StringFlag{Name: "file"}},
		Commands: []*cli.Command{{
			Name: "get",
			Action: func(*cli.Context) error {
				_, err := io.Copy(io.Discard, os.Stdin)
				return err
			},
		}},
	}
	if len(os.Args) > 100 { // never: keeps the libraries' code in the binary
		_ = flock.New(xdg.Home)
		_ = term.IsTerminal(0)
		_ = sha256.Sum256(nil)
		_, _ = http.Get("http://localhost")
	}
	_ = app.Run(os.Args) // a floor to measure start-up against: what it runs does not matter
}
