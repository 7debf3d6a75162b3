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

// Live gives the session cryosparc-tools' CryoSPARC() would use in the same
// environment: here $CRYOSPARC_EMAIL picks bo's.
func ExampleCommands_Live() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	env := map[string]string{"CRYOSPARC_EMAIL": "bo@example.com"}
	h := &helper.Commands{Path: filepath.Join(dir, "auth.json"), Stderr: os.Stderr,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	h.Store(strings.NewReader("url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=ali-token\nexpires=2099-01-31T12:00:00Z\n"))
	h.Store(strings.NewReader("url=https://cryosparc.example.com\nemail=bo@example.com\naccess_token=bo-token\nexpires=2099-01-31T12:00:00Z\n"))
	sess, err := h.Live("", "", 0)
	fmt.Println(sess.Email, sess.Token, err)
	// Output: bo@example.com bo-token <nil>
}
