package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitHelperSuite runs the steps of git's own credential helper test
// suite (helper_test in git's t/lib-credential.sh), in order, with the
// binary as the helper: the same inputs, and the same expected stdout and
// stderr, with git asking an askpass script when the helper has nothing.
func TestGitHelperSuite(t *testing.T) {
	g := newGitEnv(t)
	askpass := filepath.Join(g.dir, "askpass")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho >&2 askpass: $*\nwhat=`echo $1 | cut -d\" \" -f1 | tr A-Z a-z | tr -cd a-z`\necho \"askpass-$what\"\n"), 0o755)
	env := append(append([]string{}, g.env...), "GIT_ASKPASS="+askpass, "GIT_TERMINAL_PROMPT=1")

	steps := []struct {
		name, action, in, stdout, stderr string
		config                           []string
	}{
		{"has no existing data", "fill", "protocol=https\nhost=example.com\n",
			"protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password\n",
			"askpass: Username for 'https://example.com':\naskpass: Password for 'https://askpass-username@example.com':\n", nil},
		{"stores password", "approve", "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n", "", "", nil},
		{"can retrieve password", "fill", "protocol=https\nhost=example.com\n",
			"protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n", "", nil},
		{"requires matching protocol", "fill", "protocol=http\nhost=example.com\n",
			"protocol=http\nhost=example.com\nusername=askpass-username\npassword=askpass-password\n",
			"askpass: Username for 'http://example.com':\naskpass: Password for 'http://askpass-username@example.com':\n", nil},
		{"requires matching host", "fill", "protocol=https\nhost=other.tld\n",
			"protocol=https\nhost=other.tld\nusername=askpass-username\npassword=askpass-password\n",
			"askpass: Username for 'https://other.tld':\naskpass: Password for 'https://askpass-username@other.tld':\n", nil},
		{"requires matching username", "fill", "protocol=https\nhost=example.com\nusername=other\n",
			"protocol=https\nhost=example.com\nusername=other\npassword=askpass-password\n",
			"askpass: Password for 'https://other@example.com':\n", nil},
		{"requires matching path (store)", "approve", "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n", "", "",
			[]string{"credential.usehttppath=true"}},
		{"requires matching path", "fill", "protocol=http\nhost=path.tld\npath=bar.git\n",
			"protocol=http\nhost=path.tld\npath=bar.git\nusername=askpass-username\npassword=askpass-password\n",
			"askpass: Username for 'http://path.tld/bar.git':\naskpass: Password for 'http://askpass-username@path.tld/bar.git':\n",
			[]string{"credential.usehttppath=true"}},
		{"can forget host", "reject", "protocol=https\nhost=example.com\n", "", "", nil},
		{"can forget host (check)", "fill", "protocol=https\nhost=example.com\n",
			"protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password\n",
			"askpass: Username for 'https://example.com':\naskpass: Password for 'https://askpass-username@example.com':\n", nil},
		{"can store multiple users (1)", "approve", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", "", "", nil},
		{"can store multiple users (2)", "approve", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "", "", nil},
		{"can store multiple users (user1)", "fill", "protocol=https\nhost=example.com\nusername=user1\n",
			"protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", "", nil},
		{"can store multiple users (user2)", "fill", "protocol=https\nhost=example.com\nusername=user2\n",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "", nil},
		{"can forget user", "reject", "protocol=https\nhost=example.com\nusername=user1\n", "", "", nil},
		{"can forget user (check)", "fill", "protocol=https\nhost=example.com\nusername=user1\n",
			"protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password\n",
			"askpass: Password for 'https://user1@example.com':\n", nil},
		{"remembers other user", "fill", "protocol=https\nhost=example.com\nusername=user2\n",
			"protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", "", nil},
		{"can store empty username", "approve", "protocol=https\nhost=sso.tld\nusername=\npassword=\n", "", "", nil},
		{"can store empty username (check)", "fill", "protocol=https\nhost=sso.tld\n",
			"protocol=https\nhost=sso.tld\nusername=\npassword=\n", "", nil},
	}
	for _, st := range steps {
		args := []string{}
		for _, c := range st.config {
			args = append(args, "-c", c)
		}
		cmd := exec.Command("git", append(args, "credential", st.action)...)
		cmd.Dir = g.dir
		cmd.Env = env
		cmd.Stdin = strings.NewReader(st.in)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: git credential %s failed: %v\n%s", st.name, st.action, err, stderr.String())
		}
		if stdout.String() != st.stdout || stderr.String() != st.stderr {
			t.Errorf("%s:\nstdout %q\nwant   %q\nstderr %q\nwant   %q", st.name, stdout.String(), st.stdout, stderr.String(), st.stderr)
		}
	}
	g.validForPython()
}
