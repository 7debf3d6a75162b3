//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// readmeBlock returns the fenced block between <!-- name --> and
// <!-- /name --> in README.md.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- " + name + " -->\n```[a-z]*\n(.*?)```\n<!-- /" + name + " -->").FindSubmatch(data)
	if m == nil {
		t.Fatalf("README.md has no block marked <!-- %s -->", name)
	}
	return string(m[1])
}

// TestREADMECrontab runs the README's crontab line as cron does: /bin/sh -c
// with nothing in the environment but HOME and PATH=/usr/bin:/bin, the
// binary installed where the line says (under HOME). Two substitutions,
// the only ones: the example URL becomes the stand-in server's, and `pass`
// becomes a script by its full path that prints as pass does (the
// password, then notes). The first run logs in, the second finds nothing
// due; both print nothing (--quiet) and exit 0.
func TestREADMECrontab(t *testing.T) {
	block := readmeBlock(t, "crontab")
	var line string
	for _, l := range strings.Split(block, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			line = l
		}
	}
	fields := strings.Fields(line)
	if len(fields) < 6 {
		t.Fatalf("no crontab line in %q", block)
	}
	if strings.Contains(line, "%") {
		t.Errorf("the crontab line holds %%, which cron turns into a line break: %q", line)
	}
	command := strings.Join(fields[5:], " ") // after minute, hour, day, month, weekday

	cs := newCryoSPARC(t, "s3cret")
	home := t.TempDir()
	bin := filepath.Join(home, ".local", "bin", "cryosparc-credential")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	if err := os.Symlink(binary(t), bin); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(home, "pass")
	os.WriteFile(pass, []byte("#!/bin/sh\nprintf 's3cret\\nlogin: ali\\nurl: https://cryosparc.example.com\\n'\n"), 0o700)
	for old, new := range map[string]string{"https://cryosparc.example.com": cs.URL, "'pass show cryosparc'": "'" + pass + " show cryosparc'"} {
		if !strings.Contains(command, old) {
			t.Fatalf("the crontab line no longer holds %s: update this test", old)
		}
		command = strings.Replace(command, old, new, 1)
	}
	for i, want := range []int{1, 1} {
		cmd := exec.Command("env", "-i", "HOME="+home, "PATH=/usr/bin:/bin", "/bin/sh", "-c", command)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no terminal, as under cron
		out, errs, code := runCmd(t, cmd)
		if code != 0 || out != "" || errs != "" {
			t.Errorf("run %d: exit %d, stdout %q, stderr %q; want 0 and nothing printed", i+1, code, out, errs)
		}
		if n := len(cs.Logins()); n != want {
			t.Errorf("run %d: %d logins, want %d", i+1, n, want)
		}
	}
	file := filepath.Join(home, ".config", "cryosparc-tools", "auth.json")
	sess, ok, err := store.Lookup(file, nil, cs.URL, "ali@example.com")
	if err != nil || !ok || time.Until(sess.Expires.Time()) < 29*24*time.Hour {
		t.Errorf("the session stored: %v %v %+v", ok, err, sess.Expires)
	}
}

// TestREADMEPython runs the README's Python example: a token when there is
// a session, and an error that carries the program's message when not.
func TestREADMEPython(t *testing.T) {
	testkit.Need(t, "python3", "-c", "1")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	req := "url=https://cs.example.com\nemail=ali@example.com\naccess_token=tok-1\nexpires_in=86400\n"
	if _, errs, code := runBinary(t, req, "--file", file, "store"); code != 0 {
		t.Fatal(errs)
	}
	os.Symlink(binary(t), filepath.Join(dir, "cryosparc-credential"))
	script := readmeBlock(t, "python-example") + `
import sys
print(cryosparc_token("https://cs.example.com", "ali@example.com"))
try:
    cryosparc_token("https://cs.example.com", "bob@example.com")
except RuntimeError as e:
    print("error:", e)
`
	cmd := exec.Command("python3", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+dir+":/usr/bin:/bin", "CRYOSPARC_AUTH_FILE="+file)
	out, errs, code := runCmd(t, cmd)
	if code != 0 || !strings.HasPrefix(out, "tok-1\nerror: exit 1: cryosparc-credential: no session found for bob@example.com") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
