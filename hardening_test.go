//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// envInt reads a test knob from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// cpuHogs keeps n processes spinning until the test ends: the conditions
// of a loaded login node, where a writer stalls and readers are late.
func cpuHogs(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		hog := exec.Command("sh", "-c", "while :; do :; done")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hog.Process.Kill(); hog.Wait() })
	}
}

// TestStalledWriter runs a cryosparc-tools-style writer that truncates the
// file, writes part of it, stalls 0.1–0.8 s (STALL_MAX_MS), then finishes,
// for STALL_ROUNDS rounds, beside busy CPU hogs, while get and store run in
// loops: every get must answer with the session, every store must succeed
// or fail clearly, and at the end every session either side stored must be
// in the file. scripts/stress.sh runs it longer, with stalls up to 1.5 s.
func TestStalledWriter(t *testing.T) {
	testkit.Need(t, "python3")
	rounds := envInt("STALL_ROUNDS", 4)
	maxStall := envInt("STALL_MAX_MS", 800)
	if testing.Short() {
		rounds = 2
	}
	seed := time.Now().UnixNano() % 100000
	if s := envInt("STALL_SEED", -1); s >= 0 {
		seed = int64(s)
	}
	t.Logf("seed %d (STALL_SEED=%d to repeat), %d rounds, stalls 100–%d ms, %d CPU hogs", seed, seed, rounds, maxStall, 2*runtime.NumCPU())
	binary(t) // built before the clock starts
	cpuHogs(t, 2*runtime.NumCPU())

	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	writeLargeFile(t, file, 500)
	writer := exec.Command("python3", "testdata/stalled_writer.py", file, strconv.Itoa(rounds), strconv.FormatInt(seed, 10),
		"0.1", strconv.FormatFloat(float64(maxStall)/1000, 'f', 3, 64))
	var wout, werr strings.Builder
	writer.Stdout, writer.Stderr = &wout, &werr
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { writer.Wait(); close(done) }()

	var (
		mu                   sync.Mutex
		gets, stores, failed int
		stored               []string
		wg                   sync.WaitGroup
	)
	running := func() bool {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	wg.Add(2)
	go func() { // gets of a session the writer never touches
		defer wg.Done()
		for running() {
			out, stderr, code := runBinary(t, "url=https://cs7.example.com\nemail=user7@example.com\n", "--file", file, "get")
			mu.Lock()
			gets++
			if code != 0 || !strings.Contains(out, "access_token=") {
				failed++
				t.Errorf("get during a stalled write: exit %d %s", code, stderr)
			}
			mu.Unlock()
		}
	}()
	go func() { // stores of sessions of our own
		defer wg.Done()
		for i := 0; running(); i++ {
			email := fmt.Sprintf("go%d@example.com", i)
			_, stderr, code := runBinary(t, "url=https://go.example.com\nemail="+email+"\naccess_token=go-"+email+"\n", "--file", file, "store")
			mu.Lock()
			stores++
			switch {
			case code == 0:
				stored = append(stored, email)
			case code == 3 && strings.Contains(stderr, "being written"):
				// A clear failure is allowed; a lost session is not.
			default:
				failed++
				t.Errorf("store during a stalled write: exit %d %s", code, stderr)
			}
			mu.Unlock()
		}
	}()
	wg.Wait()
	if werr.Len() > 0 {
		t.Fatalf("writer: %s", werr.String())
	}
	fields := strings.Fields(wout.String())
	if len(fields) == 0 {
		t.Fatal("the writer printed nothing")
	}
	s, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(s, &data); err != nil {
		t.Fatalf("file after the run: %v", err)
	}
	lost := 0
	for _, email := range fields[1:] {
		if _, ok := data["https://python.example.com"][email]; !ok {
			lost++
			t.Errorf("the writer's session %s was lost", email)
		}
	}
	for _, email := range stored {
		if _, ok := data["https://go.example.com"][email]; !ok {
			lost++
			t.Errorf("the stored session %s was lost", email)
		}
	}
	if _, ok := data["https://cs7.example.com"]["user7@example.com"]; !ok {
		t.Error("a session stored before the run was lost")
	}
	t.Logf("%d stalled writes; %d gets, %d stores (%d kept), %d failed, %d sessions lost", len(fields)-1, gets, stores, len(stored), failed, lost)
}

// TestAbandonedEmptyFile: a writer that truncated the file and died leaves
// it empty; get answers (nothing found) once the file has been left alone
// for store.AbandonAfter, and store may then replace it.
func TestAbandonedEmptyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("waits store.AbandonAfter in real time (store.TestTornFileAbandoned covers the rule on a fake clock)")
	}
	file := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr, code := runBinary(t, "url=https://cs.example.com\n", "--file", file, "get")
	took := time.Since(start)
	if code != 1 || !strings.Contains(stderr, "no session found") {
		t.Fatalf("get on an abandoned empty file: exit %d %s", code, stderr)
	}
	t.Logf("get answered after %s", took.Round(time.Millisecond))
	if _, stderr, code := runBinary(t, "url=https://cs.example.com\nemail=a@x\naccess_token=t\n", "--file", file, "store"); code != 0 {
		t.Fatalf("store over an abandoned empty file: exit %d %s", code, stderr)
	}
}

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
		t.Skip("no FIFOs here:", err)
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
		if os.Geteuid() != 0 {
			t.Skip("needs root")
		}
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
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
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
	// Readable by the user, not writable: locked read-only.
	os.Chmod(file+".lock", 0o644)
	if out, code := asUser("user2@x"); code != 0 {
		t.Fatalf("the user's store with a root-owned, readable lock file: exit %d %s", code, out)
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

// TestMessagesAreSafe: secrets typed into a URL never reach stderr, values
// from the file are escaped on the terminal, and messages stay one bounded
// line.
func TestMessagesAreSafe(t *testing.T) {
	e, file := sampleEnv(t, `{"https://cs.example.com": {"evil\u001b[2J@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`)
	for _, args := range [][]string{
		{"token", "--url", "https://user:SECRET@host/?q=QUERY"},
		{"logout", "--url", "https://user:SECRET@host/?q=QUERY"},
	} {
		r := runWith(t, e, append([]string{"--file", file}, args...)...)
		if r.code != 2 || strings.Contains(r.stderr, "SECRET") || strings.Contains(r.stderr, "QUERY") {
			t.Errorf("%s: exit %d %q", args[0], r.code, r.stderr)
		}
	}
	r := runWith(t, e, "--file", file, "list")
	if r.code != 0 || strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `evil\x1b[2J@x`) {
		t.Errorf("list: exit %d %q; want the escape sequence shown escaped", r.code, r.stdout)
	}
	r = runWith(t, e, "--file", file, "token", "--email", strings.Repeat("e", 70000))
	if r.code != 1 || len(r.stderr) > 1000 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("token with a huge email: exit %d, %d bytes of stderr", r.code, len(r.stderr))
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
		e.stdin = strings.NewReader(in)
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
