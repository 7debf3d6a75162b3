//go:build unix

package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// refused is the flock of a file system that refuses it with e.
func refused(e syscall.Errno) func(*os.File) error {
	return func(*os.File) error { return e }
}

// unsupported are the errors by which file systems refuse flock.
var unsupported = []syscall.Errno{syscall.ENOLCK, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.EINVAL}

// TestLockWhereFlockIsRefused: with flock refused by each error a file
// system gives, an update still goes through, and leaves no lock held; any
// other flock error is a file error, the file untouched; a lock held
// elsewhere is a timeout.
func TestLockWhereFlockIsRefused(t *testing.T) {
	for _, e := range unsupported {
		t.Run(e.Error(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			opt := testOptions(t)
			opt.flock = refused(e)
			for i := range 3 {
				if err := Update(path, opt, insertOne("https://x", fmt.Sprintf("a%d@x", i), "t")); err != nil {
					t.Fatalf("Update %d: %v", i, err)
				}
			}
			if s, err := Load(path, opt); err != nil || s.Len() != 3 {
				t.Fatalf("after 3 updates: %d sessions, %v", s.Len(), err)
			}
			if _, err := os.Lstat(heldPath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the lock file is left behind: %v", err)
			}
		})
	}
	t.Run("other errors are not taken for refusal", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "auth.json")
		os.WriteFile(path, []byte("{}"), 0o600)
		opt := testOptions(t)
		opt.flock = refused(syscall.EIO)
		err := Update(path, opt, insertOne("https://x", "a@x", "t"))
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "input/output error") {
			t.Errorf("flock failing with EIO: %v, want ErrUnsafe naming the error", err)
		}
		opt.flock = refused(syscall.EWOULDBLOCK)
		opt.LockTimeout = 20 * time.Millisecond
		err = Update(path, opt, insertOne("https://x", "a@x", "t"))
		if !errors.Is(err, ErrLockTimeout) || strings.Contains(err.Error(), "--") {
			t.Errorf("flock always busy: %v, want ErrLockTimeout, without a flag name", err)
		}
		if data, _ := os.ReadFile(path); string(data) != "{}" {
			t.Errorf("the file changed: %q", data)
		}
	})
}

// TestLockHelperProcess is not a test: it is the process the tests below
// start, as writers or as a lock holder.
func TestLockHelperProcess(t *testing.T) {
	mode := os.Getenv("LOCK_HELPER")
	if mode == "" {
		t.Skip("run by the tests that need another process")
	}
	path := os.Getenv("LOCK_FILE")
	opt := &Options{Now: func() time.Time { return fixedNow }, LockTimeout: time.Minute}
	if d, err := time.ParseDuration(os.Getenv("LOCK_TIMEOUT")); err == nil {
		opt.LockTimeout = d
	}
	if e, _ := strconv.Atoi(os.Getenv("LOCK_ERRNO")); e != 0 {
		opt.flock = refused(syscall.Errno(e))
	}
	switch mode {
	case "hold":
		unlock, err := lock(path, opt, nil)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin) // until killed
		unlock.Unlock()
	case "write":
		n, _ := strconv.Atoi(os.Getenv("LOCK_N"))
		inside := path + ".inside"
		for i := range n {
			err := Update(path, opt, func(s *Sessions) error {
				// Nobody else may be between lock and unlock now.
				f, err := os.OpenFile(inside, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return fmt.Errorf("two writers hold the lock at once: %w", err)
				}
				f.Close()
				defer os.Remove(inside)
				return insertOne("https://x", fmt.Sprintf("%s-%d@x", os.Getenv("LOCK_ID"), i), "t")(s)
			})
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
		}
	case "update":
		err := Update(path, opt, insertOne("https://x", "user@x", "t"))
		fmt.Print(err)
	}
	os.Exit(0)
}

// helper returns the command that runs TestLockHelperProcess in mode.
func helper(t *testing.T, mode, path string, errno syscall.Errno, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "LOCK_HELPER="+mode, "LOCK_FILE="+path, fmt.Sprintf("LOCK_ERRNO=%d", errno))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestLockManyWritersMixed: 30 processes × 10 updates at once, a fifth
// with flock working and the others with flock refused by each error, on a
// file whose lock was left by a dead writer of another host: never two in
// the lock at once, no update lost, no lock file left.
func TestLockManyWritersMixed(t *testing.T) {
	procs, n := 30, 10
	if testing.Short() {
		procs, n = 10, 5
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	plantHeld(t, path, "elsewhere/1", time.Now().Add(-LockStaleAfter-time.Second))
	kinds := append([]syscall.Errno{0}, unsupported...)
	var wg sync.WaitGroup
	for p := range procs {
		cmd := helper(t, "write", path, kinds[p%len(kinds)], fmt.Sprintf("LOCK_ID=p%d", p), fmt.Sprintf("LOCK_N=%d", n))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("writer %d (flock errno %d): %v %s", p, kinds[p%len(kinds)], err, out)
			}
		}()
	}
	wg.Wait()
	s, err := Load(path, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for p := range procs {
		for i := range n {
			if _, ok := s.Find("https://x", fmt.Sprintf("p%d-%d@x", p, i)); !ok {
				t.Errorf("p%d-%d@x lost", p, i)
			}
		}
	}
	for _, p := range []string{heldPath(path), breakPath(path)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", filepath.Base(p), err)
		}
	}
}

// lockPath, heldPath and breakPath are the lock files beside the session
// file path (internal/lockfile's names).
func lockPath(path string) string  { return lockfile.Path(path) }
func heldPath(path string) string  { return path + ".lock.held" }
func breakPath(path string) string { return path + ".lock.break" }

// plantHeld leaves a lock file at path's held path as a writer in space
// would, last refreshed at mtime, and returns its line: process 1 on
// node7.
func plantHeld(t *testing.T, path, space string, mtime time.Time) string {
	t.Helper()
	line := fmt.Sprintf("pid=1 host=node7 space=%s since=%s nonce=planted\n", space, mtime.UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(heldPath(path), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(heldPath(path), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return line
}

// TestLockKilledHolder: a holder killed with kill -9 delays the next
// writer on its host not at all (its process is gone), whichever kind of
// lock either takes; until then it holds it.
func TestLockKilledHolder(t *testing.T) {
	for _, c := range [][2]syscall.Errno{{0, 0}, {0, syscall.ENOSYS}, {syscall.ENOSYS, 0}, {syscall.EINVAL, syscall.ENOLCK}} {
		t.Run(fmt.Sprintf("flock errno %d then %d", c[0], c[1]), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			cmd := helper(t, "hold", path, c[0])
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("holder: %q", line)
			}
			opt := testOptions(t)
			if c[1] != 0 {
				opt.flock = refused(c[1])
			}
			opt.LockTimeout = 0
			err := Update(path, opt, insertOne("https://x", "a@x", "t"))
			if !errors.Is(err, ErrLockTimeout) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("update while another process holds the lock: %v, want ErrLockTimeout", err)
			}
			if c != [2]syscall.Errno{} && !strings.Contains(err.Error(), fmt.Sprintf("process %d", cmd.Process.Pid)) {
				t.Errorf("the message does not name the holder: %v", err)
			}
			cmd.Process.Kill()
			defer cmd.Wait()
			// Not reaped yet (a zombie), as when its parent is busy.
			for start := time.Now(); !zombie(cmd.Process.Pid); time.Sleep(time.Millisecond) {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the killed holder never ended")
				}
			}
			// Tried once, at once: no wait for a dead holder.
			if err := Update(path, opt, insertOne("https://x", "a@x", "t")); err != nil {
				t.Fatalf("update after the holder was killed, trying once: %v", err)
			}
		})
	}
}

// zombie reports whether process pid has ended, all its threads with it,
// and waits to be reaped.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := strings.LastIndexByte(string(stat), ')')
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err == nil && i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' && len(tasks) == 1
}

// TestLockStaleElsewhere: a lock file of another host is taken for a dead
// holder's once it has gone LockStaleAfter without a refresh, not before;
// one that cannot be read (even if old) only by a timeout that says how to
// clear it.
func TestLockStaleElsewhere(t *testing.T) {
	opt := testOptions(t)
	opt.LockTimeout = 0
	for _, c := range []struct {
		name   string
		age    time.Duration
		parsed bool
		taken  bool
	}{
		{"fresh", LockStaleAfter - 5*time.Second, true, false},
		{"stale", LockStaleAfter + time.Second, true, true},
		{"empty, fresh", LockStaleAfter - 5*time.Second, false, false},
		{"empty, stale", LockStaleAfter + time.Second, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			mtime := time.Now().Add(-c.age)
			h := plantHeld(t, path, "another-boot/4026531836", mtime)
			if !c.parsed {
				os.WriteFile(heldPath(path), nil, 0o600)
				os.Chtimes(heldPath(path), mtime, mtime)
			}
			err := Update(path, opt, insertOne("https://x", "a@x", "t"))
			if c.taken {
				if err != nil {
					t.Fatalf("a lock left %s ago by another host: %v", c.age, err)
				}
				return
			}
			if !errors.Is(err, ErrLockTimeout) {
				t.Fatalf("a lock refreshed %s ago by another host: %v, want ErrLockTimeout", c.age, err)
			}
			if c.parsed && !strings.Contains(err.Error(), "process 1 on node7") {
				t.Errorf("the message does not name the holder: %v", err)
			}
			if data, _ := os.ReadFile(heldPath(path)); c.parsed && string(data) != h {
				t.Errorf("the holder's lock file changed: %q", data)
			}
		})
	}
	if os.Geteuid() != 0 {
		return // root reads any file
	}
	t.Run("unreadable", func(t *testing.T) {
		path := filepath.Join(nobodyDir(t), "auth.json")
		plantHeld(t, path, "another-boot/1", time.Now().Add(-time.Hour))
		os.Chmod(heldPath(path), 0)
		out := runAsNobody(t, helper(t, "update", path, 0, "LOCK_TIMEOUT=50ms"))
		if !strings.Contains(out, "timed out") || !strings.Contains(out, "rm "+heldPath(path)) {
			t.Errorf("a lock file nobody can read: %q, want a timeout that says how to clear it", out)
		}
	})
}

// nobody is the user the tests run as root hand files to.
const nobody = 65534

// crossableDir returns a new t.TempDir that other users may pass through
// (t.TempDir's own parent is closed to them until opened here).
func crossableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nobodyDir returns a new folder of user nobody's, in a folder others may
// pass through.
func nobodyDir(t *testing.T) string {
	t.Helper()
	base := crossableDir(t)
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	return home
}

// runAsNobody runs cmd, a helper process, as user nobody, from a copy of
// the test binary that nobody can run.
func runAsNobody(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	dir := crossableDir(t)
	bin := filepath.Join(dir, "store.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.Path, cmd.Args[0] = bin, bin
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v %s", err, out)
	}
	return string(out)
}

// TestLockFilesNeverFollowed: root's update of a file in a user's folder,
// whose lock files the user replaced with links (to a file, to a path that
// does not exist), a hard link to root's file, a FIFO or a file of root's,
// is refused with what to remove, and creates, truncates or changes
// nothing outside the session file; with the lock files as they should be,
// it goes through and leaves the lock file the user's.
func TestLockFilesNeverFollowed(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	absent := filepath.Join(outside, "absent")
	for _, c := range []struct {
		name  string
		plant func(path string) error
		at    func(path string) string
		want  string
	}{
		{"lock file linked to a file", func(p string) error { return os.Symlink(victim, lockPath(p)) }, lockPath, "symbolic link"},
		{"lock file linked to nothing", func(p string) error { return os.Symlink(absent, lockPath(p)) }, lockPath, "symbolic link"},
		{"lock file hard-linked to root's", func(p string) error { return os.Link(victim, lockPath(p)) }, lockPath, "belongs to user 0"},
		{"lock file a FIFO", func(p string) error { return syscall.Mkfifo(lockPath(p), 0o600) }, lockPath, "not a regular file"},
		{"lock file left root's", func(p string) error { return os.WriteFile(lockPath(p), nil, 0o600) }, lockPath, "belongs to user 0"},
		{"held file linked", func(p string) error { return os.Symlink(victim, heldPath(p)) }, heldPath, "symbolic link"},
		{"held file linked to nothing", func(p string) error { return os.Symlink(absent, heldPath(p)) }, heldPath, "symbolic link"},
		{"break file linked", func(p string) error {
			plantHeld(t, p, "another-boot/1", time.Now().Add(-time.Hour))
			os.Chown(heldPath(p), nobody, nobody)
			return os.Symlink(victim, breakPath(p))
		}, breakPath, "symbolic link"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Stat(victim)
			path := filepath.Join(nobodyDir(t), "auth.json")
			os.WriteFile(path, []byte("{}"), 0o600)
			os.Chown(path, nobody, nobody)
			if err := c.plant(path); err != nil {
				t.Fatal(err)
			}
			opt := testOptions(t)
			opt.LockTimeout = 50 * time.Millisecond
			err := Update(path, opt, insertOne("https://x", "a@x", "t"))
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "rm "+c.at(path)) {
				t.Errorf("Update as root: %v; want ErrUnsafe, %q and how to clear it", err, c.want)
			}
			after, err := os.Stat(victim)
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(victim); string(data) != "keep" || after.Mode() != before.Mode() || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("the file outside changed: %q %v", data, after.Mode())
			}
			if st := after.Sys().(*syscall.Stat_t); st.Uid != 0 {
				t.Errorf("the file outside was given to %d", st.Uid)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Errorf("created outside: %v", entries)
			}
			if data, _ := os.ReadFile(path); string(data) != "{}" {
				t.Errorf("the session file changed: %q", data)
			}
			os.Remove(victim)
		})
	}
	t.Run("as it should be", func(t *testing.T) {
		path := filepath.Join(nobodyDir(t), "auth.json")
		os.WriteFile(path, []byte("{}"), 0o600)
		os.Chown(path, nobody, nobody)
		for range 2 { // creates the lock file, then uses it
			if err := Update(path, testOptions(t), insertOne("https://x", "a@x", "t")); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Lstat(lockPath(path))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody || st.Gid != nobody {
			t.Errorf("root left the lock file %d:%d, want the user's", st.Uid, st.Gid)
		}
	})
}

// TestLockPermissionDenied: a lock file that cannot be created in a
// folder the user may not write is reported as such, not as a missing file.
func TestLockPermissionDenied(t *testing.T) {
	testkit.Require(t, os.Geteuid() == 0, "needs root, to run a helper as nobody")
	dir := nobodyDir(t)
	os.Chown(dir, 0, 0)
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "auth.json")
	os.WriteFile(path, []byte("{}"), 0o600)
	os.Chown(path, nobody, nobody)
	out := runAsNobody(t, helper(t, "update", path, 0))
	if !strings.Contains(out, "permission denied") || strings.Contains(out, "no such file") || !strings.Contains(out, lockPath(path)) {
		t.Errorf("creating the lock file in a folder nobody cannot write: %q", out)
	}
}

// TestHeldTempCleared: what a writer killed before linking its lock file
// leaves (internal/lockfile's TestHeldNeverEmpty) is a temporary file,
// cleared by the next store, never a lock.
func TestHeldTempCleared(t *testing.T) {
	opt := testOptions(t)
	opt.LockTimeout = 0
	path := filepath.Join(t.TempDir(), "auth.json")
	left := filepath.Join(filepath.Dir(path), safefile.TempPrefix(path)+"held-killed")
	os.WriteFile(left, []byte("pid=1 host=x space=y since=2026-01-01T00:00:00Z nonce=killed\n"), 0o600)
	if err := Update(path, opt, insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatalf("a store after a writer killed before linking its lock: %v", err)
	}
	if _, err := os.Stat(left); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("its temporary file was not cleared: %v", err)
	}
}
