// Command genfile writes a valid session file of n sessions, for the stress
// and benchmark scripts, in cryosparc-tools' layout (internal/sessiongen,
// the generator the tests use).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
)

func main() {
	n := flag.Int("n", 1000, "number of sessions")
	instances := flag.Int("instances", 50, "number of instances the sessions are spread over")
	out := flag.String("o", "auth.json", "file to write")
	flag.Parse()
	data := sessiongen.SessionFile(*n, *instances, time.Now().Add(30*24*time.Hour))
	if err := os.WriteFile(*out, data, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
