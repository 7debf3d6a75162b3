package helper_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
)

func ExampleCommands_Get() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	// Each command reads its request from IO.In and answers on IO.Out.
	h := &helper.Commands{Path: filepath.Join(dir, "auth.json"),
		IO: helper.IOStreams{Out: os.Stdout, ErrOut: os.Stderr}}
	request := func(lines string) *helper.Commands {
		h.IO.In = strings.NewReader(lines)
		return h
	}

	request("url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=abc123\nexpires=2099-01-31T12:00:00+01:00\n").Store()
	request("url=https://cryosparc.example.com\n").Get()
	// git's keys in, git's keys out:
	request("protocol=https\nhost=cryosparc.example.com\n").Get()
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

// Live gives the session cryosparc-tools' CryoSPARC() would use in the same
// environment: here $CRYOSPARC_EMAIL picks bo's.
func ExampleCommands_Live() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	env := map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}
	h := &helper.Commands{Path: filepath.Join(dir, "auth.json"), IO: helper.IOStreams{ErrOut: os.Stderr},
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	for _, email := range []string{"ali", "bo"} {
		h.IO.In = strings.NewReader("url=https://cryosparc.example.com\nemail=" + email + "@example.com\naccess_token=" + email + "-token\nexpires=2099-01-31T12:00:00Z\n")
		h.Store()
	}
	sess, err := h.Live("", "", 0)
	fmt.Println(sess.Email, sess.Token, err)
	// Output: bo@example.com bo-token <nil>
}
