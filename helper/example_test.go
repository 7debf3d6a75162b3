package helper_test

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
)

func ExampleCommands_Get() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	h := &helper.Commands{Path: filepath.Join(dir, "auth.json"), Stderr: os.Stderr}

	h.Store(strings.NewReader("url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=abc123\nexpires=2099-01-31T12:00:00+01:00\n"))
	h.Get(strings.NewReader("url=https://cryosparc.example.com\n"), os.Stdout)
	// git's keys in, git's keys out:
	h.Get(strings.NewReader("protocol=https\nhost=cryosparc.example.com\n"), os.Stdout)
	// Output:
	// url=https://cryosparc.example.com
	// email=ali@example.com
	// access_token=abc123
	// token_type=bearer
	// expires=2099-01-31T12:00:00+01:00
	// protocol=https
	// host=cryosparc.example.com
	// username=ali@example.com
	// password=abc123
}
