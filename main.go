// Command cryosparc-credential keeps CryoSPARC login sessions in the session
// file of cryosparc-tools and serves them over a git-credential-style
// key=value protocol on stdin and stdout. The command line is
// internal/cmdline; what each command does, package helper.
package main

import (
	"os"

	"github.com/cryosparc-credential/cryosparc-credential/internal/cmdline"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version recorded in the binary is used.
var version = ""

func main() { os.Exit(cmdline.Main(version)) }
