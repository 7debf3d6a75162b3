//go:build !urfave_cli_no_docs

package main

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var updateMan = flag.Bool("update-man", false, "rewrite docs/cryosparc-credential.1")

// manPage renders the man page from the command line definition.
func manPage(t *testing.T) string {
	e := &env{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr, now: time.Now,
		lookup: func(string) (string, bool) { return "", false }}
	app := newApp(e)
	app.Version = "" // the page must not depend on the build
	man, err := app.ToManWithSection(1)
	if err != nil {
		t.Fatal(err)
	}
	return man
}

// TestManPageUpToDate fails when docs/cryosparc-credential.1 no longer
// matches the commands; regenerate it with go test -run ManPage -update-man.
func TestManPageUpToDate(t *testing.T) {
	const path = "docs/cryosparc-credential.1"
	man := manPage(t)
	if *updateMan {
		if err := os.WriteFile(path, []byte(man), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != man {
		t.Errorf("%s is out of date; regenerate it: go test -run ManPage -update-man .", path)
	}
	for _, cmd := range []string{"login", "logout", "token", "list", "doctor", "get", "store", "erase"} {
		if !strings.Contains(man, cmd) {
			t.Errorf("man page lacks %s", cmd)
		}
	}
}
