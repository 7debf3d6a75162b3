//go:build linux

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"golang.org/x/sys/unix"
)

// TestLoginPromptsOnRealTerminal runs the binary with a pseudo-terminal as
// its controlling terminal and answers its prompts the way a person would:
// the password must not be echoed, and the session must be stored.
func TestLoginPromptsOnRealTerminal(t *testing.T) {
	cs := newCryoSPARC(t, "tty-s3cret")
	cs.AddUser("tty@example.com", "tty-s3cret", "Tty User")
	file := filepath.Join(t.TempDir(), "auth.json")
	cmd := exec.Command(binary(t), "--file", file, "login")
	cmd.Env = append(os.Environ(), "CRYOSPARC_EMAIL=", "CRYOSPARC_PASSWORD=")
	// Standard input is not the terminal: the prompts must go to /dev/tty.
	cmd.Stdin = strings.NewReader("")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	ptmx := startOnTerminal(t, cmd)
	defer ptmx.Close()

	screen := &strings.Builder{}
	r := bufio.NewReader(ptmx)
	expect := func(prompt string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.HasSuffix(screen.String(), prompt) {
			if time.Now().After(deadline) {
				t.Fatalf("no prompt %q; screen so far: %q", prompt, screen.String())
			}
			b, err := r.ReadByte()
			if err != nil {
				t.Fatalf("reading the terminal: %v; screen: %q", err, screen.String())
			}
			screen.WriteByte(b)
		}
	}
	expect("CryoSPARC URL: ")
	io.WriteString(ptmx, cs.URL+"\n")
	expect("Email: ")
	io.WriteString(ptmx, "tty@example.com\n")
	expect("Password: ")
	// Type only once the program has turned echo off, as a person would
	// after seeing the prompt (typing ahead would be echoed by any program).
	for i := 0; ; i++ {
		tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS)
		if err == nil && tio.Lflag&unix.ECHO == 0 {
			break
		}
		if i > 500 {
			t.Fatal("echo never turned off for the password")
		}
		time.Sleep(10 * time.Millisecond)
	}
	io.WriteString(ptmx, "tty-s3cret\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	rest := make(chan string, 1)
	go func() { // what the terminal shows after the password, until it closes
		var b strings.Builder
		io.Copy(&b, r)
		rest <- b.String()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("login: %v; screen %q", err, screen.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("login did not finish")
	}
	select {
	case s := <-rest:
		screen.WriteString(s)
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal did not close after login exited")
	}
	if strings.Contains(screen.String(), "tty-s3cret") {
		t.Errorf("the password was echoed: %q", screen.String())
	}
	if !strings.Contains(screen.String(), "tty@example.com") {
		t.Errorf("the email was not echoed (the terminal is not in its normal mode?): %q", screen.String())
	}
	sum := sha256.Sum256([]byte("tty-s3cret"))
	if logins := cs.Logins(); len(logins) != 1 || logins[0]["password"] != hex.EncodeToString(sum[:]) {
		t.Errorf("logins: %v", logins)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "tok-for-tty@example.com") {
		t.Errorf("session not stored:\n%s", data)
	}
	if !strings.Contains(stdout.String(), "Logged in") {
		t.Errorf("stdout %q", stdout.String())
	}
}

// TestLoginCtrlDOnRealTerminal: end of input (Ctrl-D) at any prompt of a
// real terminal ends the login at once with exit 2, nothing stored.
func TestLoginCtrlDOnRealTerminal(t *testing.T) {
	cs := newCryoSPARC(t, "pw")
	for _, stage := range []string{"CryoSPARC URL: ", "Email: ", "Password: "} {
		t.Run(strings.TrimSuffix(stage, ": "), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "auth.json")
			cmd := exec.Command(binary(t), "--file", file, "login")
			cmd.Env = append(os.Environ(), "CRYOSPARC_EMAIL=", "CRYOSPARC_PASSWORD=", "CRYOSPARC_BASE_URL=")
			cmd.Stdin = strings.NewReader("")
			ptmx := startOnTerminal(t, cmd)
			defer ptmx.Close()
			defer cmd.Process.Kill()
			r := bufio.NewReader(ptmx)
			var screen strings.Builder
			expect := func(prompt string) {
				t.Helper()
				for !strings.HasSuffix(screen.String(), prompt) {
					b, err := r.ReadByte()
					if err != nil {
						t.Fatalf("reading the terminal: %v; screen %q", err, screen.String())
					}
					screen.WriteByte(b)
				}
			}
			answers := map[string]string{"CryoSPARC URL: ": cs.URL, "Email: ": "a@x"}
			for _, p := range []string{"CryoSPARC URL: ", "Email: ", "Password: "} {
				expect(p)
				if p == stage {
					break
				}
				io.WriteString(ptmx, answers[p]+"\n")
			}
			if stage == "Password: " { // typed once echo is off, as a person would
				for i := 0; i < 500; i++ {
					if tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), unix.TCGETS); err == nil && tio.Lflag&unix.ECHO == 0 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			io.WriteString(ptmx, "\x04")
			go io.Copy(io.Discard, r)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 2 {
					t.Errorf("Ctrl-D at %q: %v, want exit 2", stage, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Ctrl-D at %q was ignored: login still waits", stage)
			}
			if _, err := os.Stat(file); err == nil {
				t.Errorf("a session file was written")
			}
		})
	}
}

// startOnTerminal starts cmd in a new session whose controlling terminal is
// a pseudo-terminal, on cmd's standard error, and returns the terminal's
// other end, from which a test reads the screen and types.
func startOnTerminal(t *testing.T, cmd *exec.Cmd) *os.File {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		testkit.Require(t, false, "no pseudo-terminal: "+err.Error())
	}
	cmd.Stderr = tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 2}
	if err := cmd.Start(); err != nil {
		ptmx.Close()
		t.Fatal(err)
	}
	tty.Close()
	return ptmx
}
