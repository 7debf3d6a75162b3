//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/gofrs/flock"
)

// TestNotASessionFile: a file that is not a session file is refused by every
// command (exit 3), and nothing is created or changed beside it.
func TestNotASessionFile(t *testing.T) {
	for _, content := range []string{
		"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
		`{"name": "my-tool", "debug": true, "paths": {"a": 1}}`,
		`[1, 2, 3]`,
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "config")
		os.WriteFile(file, []byte(content), 0o644)
		for _, args := range [][]string{{"store"}, {"erase"}, {"get"}, {"doctor", "--fix"}, {"logout", "--all"}, {"token"}} {
			in := "url=https://cs.example.com\nemail=a@x\naccess_token=t\n"
			_, stderr, code := runBinary(t, in, append([]string{"--file", file}, args...)...)
			if code != 3 || strings.Contains(stderr, "doctor --fix`") {
				t.Errorf("%s on %.20q: exit %d, %q; want exit 3 without advice to fix it", args, content, code, stderr)
			}
			if got, _ := os.ReadFile(file); string(got) != content {
				t.Fatalf("%s changed %.20q", args, content)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("%s left %d files beside %.20q", args, len(entries)-1, content)
			}
		}
	}
	// doctor --fix on an empty file changes nothing.
	if testing.Short() {
		return // the empty file is waited for store.AbandonAfter
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	os.WriteFile(file, nil, 0o600)
	if _, stderr, code := runBinary(t, "", "--file", file, "doctor", "--fix"); code != 0 {
		t.Errorf("doctor --fix on an empty file: exit %d %s", code, stderr)
	}
	if got, _ := os.ReadFile(file); len(got) != 0 {
		t.Errorf("doctor --fix wrote %q into an empty file", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("doctor --fix on an empty file left %d files beside it", len(entries)-1)
	}
}

// TestSpecialFiles: only regular files are read; a FIFO, a device and a
// file above the size limit are refused at once with exit 3.
func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testkit.Require(t, false, "no FIFOs here: "+err.Error())
	}
	big := filepath.Join(dir, "big.json")
	f, _ := os.Create(big)
	f.Truncate(257 << 20) // sparse: takes no room
	f.Close()
	for _, path := range []string{fifo, "/dev/zero", big, dir} {
		for _, args := range [][]string{{"get"}, {"list"}, {"token"}, {"doctor"}, {"store"}} {
			done := make(chan int, 1)
			go func() {
				_, _, code := runBinary(t, "url=https://x\nemail=a\naccess_token=t\n", append([]string{"--file", path}, args...)...)
				done <- code
			}()
			select {
			case code := <-done:
				if code != 3 {
					t.Errorf("%s on %s: exit %d, want 3", args, path, code)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("%s on %s hangs", args, path)
			}
		}
	}
}

// TestPathsAndOwnership covers how the file is found and replaced.
func TestPathsAndOwnership(t *testing.T) {
	store := func(file string) (string, int) {
		_, stderr, code := runBinary(t, "url=https://cs.example.com\nemail=a@x\naccess_token=t\n", "--file", file, "store")
		return stderr, code
	}
	t.Run("relative link through a linked folder", func(t *testing.T) {
		root := t.TempDir()
		// /root/real/home/u/.config/cryosparc-tools/auth.json -> ../../../shared/auth.json
		// reached through /root/home -> real/home
		os.MkdirAll(filepath.Join(root, "real/home/u/.config/cryosparc-tools"), 0o700)
		os.MkdirAll(filepath.Join(root, "real/home/shared"), 0o700)
		os.Symlink("real/home", filepath.Join(root, "home"))
		link := filepath.Join(root, "home/u/.config/cryosparc-tools/auth.json")
		os.Symlink("../../../shared/auth.json", link)
		if stderr, code := store(link); code != 0 {
			t.Fatalf("store: %d %s", code, stderr)
		}
		// The kernel's answer: where open() wrote.
		if _, err := os.Stat(filepath.Join(root, "real/home/shared/auth.json")); err != nil {
			t.Fatalf("store did not write the file the link names: %v", err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v", err)
		}
		if out, _, code := runBinary(t, "url=https://cs.example.com\n", "--file", link, "get"); code != 0 || !strings.Contains(out, "access_token=t") {
			t.Errorf("get through the link: %d %q", code, out)
		}
		if _, err := os.Stat(filepath.Join(root, "shared")); err == nil {
			t.Error("a file was written where the link's text points, not where the kernel resolves it")
		}
	})
	t.Run("read-only file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "auth.json")
		os.WriteFile(file, []byte("{}"), 0o400)
		stderr, code := store(file)
		if code != 3 || !strings.Contains(stderr, "read-only") {
			t.Errorf("store into a 0400 file: exit %d %s", code, stderr)
		}
		if got, _ := os.ReadFile(file); string(got) != "{}" {
			t.Error("a read-only file was replaced")
		}
	})
	t.Run("paths the shell did not expand", func(t *testing.T) {
		dir := t.TempDir()
		for _, p := range []string{"~/auth.json", " ", "~"} {
			cmd := exec.Command(binary(t), "--file", p, "store")
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader("url=https://x\nemail=a\naccess_token=t\n")
			out, _ := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != 2 {
				t.Errorf("--file %q: exit %d %s", p, cmd.ProcessState.ExitCode(), out)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("created %v", entries)
		}
	})
	t.Run("root keeps the user's owner", func(t *testing.T) {
		testkit.Require(t, os.Geteuid() == 0, "needs root")
		dir := t.TempDir()
		file := filepath.Join(dir, "auth.json")
		os.WriteFile(file, []byte("{}"), 0o600)
		os.Chown(dir, 4321, 4322)
		os.Chown(file, 4321, 4322)
		if stderr, code := store(file); code != 0 {
			t.Fatalf("store: %d %s", code, stderr)
		}
		for _, p := range []string{file, file + ".lock"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 || st.Gid != 4322 {
				t.Errorf("%s is owned by %d:%d after a store by root, want 4321:4322", filepath.Base(p), st.Uid, st.Gid)
			}
		}
		// A new file in a user's folder, created by root, is the user's.
		newFile := filepath.Join(dir, "sub", "auth.json")
		if stderr, code := store(newFile); code != 0 {
			t.Fatalf("store: %d %s", code, stderr)
		}
		for _, p := range []string{filepath.Dir(newFile), newFile, newFile + ".lock"} {
			fi, _ := os.Stat(p)
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 {
				t.Errorf("%s is owned by %d, want 4321", p, st.Uid)
			}
		}
	})
}

// TestUserAfterRoot: after root ran a store on a user's file, the user's own
// stores still work: the file and the lock file root created are the
// user's. A lock file the user cannot even read (left 0600 by root by an
// older version) is refused with the command that clears it, and the file
// is unchanged; one the user can read is locked through a read-only
// descriptor.
func TestUserAfterRoot(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	const nobody = 65534
	dir, err := os.MkdirTemp("", "user-after-root") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o700)
	os.Chown(home, nobody, nobody)
	file := filepath.Join(home, "auth.json")
	in := func(email string) string { return "url=https://cs.example.com\nemail=" + email + "\naccess_token=t\n" }
	if _, stderr, code := runBinary(t, in("root@x"), "--file", file, "store"); code != 0 {
		t.Fatalf("store as root: %d %s", code, stderr)
	}
	asUser := func(email string) (string, int) {
		cmd := exec.Command(binary(t), "--file", file, "store")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		cmd.Stdin = strings.NewReader(in(email))
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := asUser("user@x"); code != 0 {
		t.Fatalf("the user's store after root's: exit %d %s", code, out)
	}
	// A lock file left root's, 0600, by an older version.
	os.Chown(file+".lock", 0, 0)
	before, _ := os.ReadFile(file)
	if out, code := asUser("refused@x"); code != 3 || !strings.Contains(out, "rm "+file+".lock") {
		t.Errorf("the user's store with a root-only lock file: exit %d %s; want 3 and how to clear it", code, out)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("the file changed")
	}
	// Readable by the user too: still not the file owner's, so refused
	// (SPEC §5: a lock file is used only when owned by the file's owner).
	os.Chmod(file+".lock", 0o644)
	if out, code := asUser("user2@x"); code != 3 || !strings.Contains(out, "rm "+file+".lock") {
		t.Errorf("the user's store with a root-owned, readable lock file: exit %d %s; want 3 and how to clear it", code, out)
	}
	// Cleared as told, the user's stores work again.
	os.Remove(file + ".lock")
	if out, code := asUser("user2@x"); code != 0 {
		t.Fatalf("the user's store after clearing the lock file: exit %d %s", code, out)
	}
	data, _ := os.ReadFile(file)
	for _, email := range []string{"root@x", "user@x", "user2@x"} {
		if !strings.Contains(string(data), email) {
			t.Errorf("%s missing from the file", email)
		}
	}
}

// TestLockTimeoutZeroAndNegative: 0 tries once; a negative timeout is bad
// usage.
func TestLockTimeoutZeroAndNegative(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(file, []byte("{}"), 0o600)
	fl := flock.New(file + ".lock")
	if err := fl.Lock(); err != nil {
		t.Fatal(err)
	}
	defer fl.Unlock()
	in := "url=https://x\nemail=a\naccess_token=t\n"
	start := time.Now()
	if _, stderr, code := runBinary(t, in, "--file", file, "--lock-timeout", "0", "store"); code != 3 || !strings.Contains(stderr, "lock") {
		t.Errorf("--lock-timeout 0 with the lock held: exit %d %s", code, stderr)
	}
	t.Logf("--lock-timeout 0 gave up after %s", time.Since(start).Round(time.Millisecond))
	if _, stderr, code := runBinary(t, in, "--file", file, "store", "--lock-timeout", "-1s"); code != 2 {
		t.Errorf("--lock-timeout -1s: exit %d %s", code, stderr)
	}
}

// TestUncarriableValuesRefused: a token or email the protocol cannot carry
// is refused on the way in, and doctor reports one already stored.
func TestUncarriableValuesRefused(t *testing.T) {
	e, file := sampleEnv(t, "{}")
	for _, in := range []string{
		"url=https://x\nemail=a\naccess_token=tok\r\r\n",
		"url=https://x\nemail=a\r\r\naccess_token=tok\n",
	} {
		e.Stdin = strings.NewReader(in)
		if r := runWith(t, e, "--file", file, "store"); r.code != 2 {
			t.Errorf("store %q: exit %d %s", in, r.code, r.stderr)
		}
	}
	if got, _ := os.ReadFile(file); string(got) != "{}" {
		t.Errorf("file changed: %q", got)
	}
	e2, file2 := sampleEnv(t, `{"https://x": {"a": {"token": {"access_token": "tok\r", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`)
	if r := runWith(t, e2, "--file", file2, "doctor"); r.code != 3 || !strings.Contains(r.stdout, "cannot serve") {
		t.Errorf("doctor on an unservable session: exit %d %q", r.code, r.stdout)
	}
}

// TestRootReadsNoPlantedLink: as root with HOME in a user's tree (sudo -E,
// an admin script), a session file link the user planted toward a file of
// root's makes no command print that file's token: get, token, list,
// status, exec and doctor all refuse (exit 3, saying why), and exec starts
// nothing.
func TestRootReadsNoPlantedLink(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	const nobody, secret = 65534, "ROOT-SECRET-TOKEN"
	dir, err := os.MkdirTemp("", "root-reads") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	home, system := filepath.Join(dir, "home"), filepath.Join(dir, "system")
	folder := filepath.Join(home, ".config", "cryosparc-tools")
	os.MkdirAll(folder, 0o700)
	os.Mkdir(system, 0o700)
	for _, p := range []string{home, filepath.Join(home, ".config"), folder} {
		os.Chown(p, nobody, nobody)
	}
	rootFile := filepath.Join(system, "auth.json")
	os.WriteFile(rootFile, []byte(`{"https://x.example.com": {"root@x": {"token": {"access_token": "`+secret+`", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`), 0o600)
	link := filepath.Join(folder, "auth.json")
	if err := os.Symlink(rootFile, link); err != nil {
		t.Fatal(err)
	}
	os.Lchown(link, nobody, nobody)
	marker := filepath.Join(dir, "started")
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"url=https://x.example.com\n", []string{"get"}},
		{"protocol=https\nhost=x.example.com\n", []string{"get"}},
		{"", []string{"token"}},
		{"", []string{"token", "--url", "https://x.example.com", "--header"}},
		{"", []string{"list", "--json"}},
		{"", []string{"status"}},
		{"", []string{"exec", "--token-env", "CS_TOKEN", "--", "touch", marker}},
		{"", []string{"doctor"}},
		{"", []string{"doctor", "--fix"}},
	} {
		cmd := exec.Command(binary(t), c.args...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = strings.NewReader(c.stdin)
		stdout, stderr, code := runCmd(t, cmd)
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("%v printed root's token: %q %q", c.args, stdout, stderr)
		}
		if code != 3 || !strings.Contains(stderr, "link owned by user 65534") {
			t.Errorf("%v: exit %d, stderr %q; want 3 saying the link is the user's", c.args, code, stderr)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("exec started its command")
	}
	entries, _ := os.ReadDir(system)
	if data, _ := os.ReadFile(rootFile); !strings.Contains(string(data), secret) || len(entries) != 1 {
		t.Errorf("root's folder changed: %q, %d entries", data, len(entries))
	}
}
