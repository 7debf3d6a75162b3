package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

func testOptions(t *testing.T) *Options {
	var mu sync.Mutex
	return &Options{
		Now:         func() time.Time { return fixedNow },
		LockTimeout: 5 * time.Second,
		Sleep:       func(time.Duration) {}, // a torn file's wait counts the pauses, without taking them
		Warn: func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("warning: %s", msg)
		},
	}
}

func insertOne(url, email, token string) func(*Sessions) error {
	return func(s *Sessions) error {
		_, err := s.Insert(Session{URL: url, Email: email, Token: token, Expires: ExpiryFromTime(fixedNow.Add(time.Hour))})
		return err
	}
}

func TestUpdateCreatesPrivateFileAndFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	path := filepath.Join(t.TempDir(), "new", "cryosparc-tools", "auth.json")
	if err := Update(path, testOptions(t), insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700, path + ".lock": 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %#o, want %#o", p, fi.Mode().Perm(), want)
		}
	}
	s, err := Load(path, testOptions(t))
	if err != nil || s.Len() != 1 {
		t.Fatalf("Load after Update: %d sessions, %v", s.Len(), err)
	}
}

func TestUpdateKeepsSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "sessions.json")
	os.MkdirAll(filepath.Dir(real), 0o700)
	os.WriteFile(real, []byte("{}"), 0o600)
	link := filepath.Join(dir, "auth.json")
	if err := os.Symlink("real/sessions.json", link); err != nil {
		t.Fatal(err)
	}
	if err := Update(link, testOptions(t), insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("auth.json is no longer a symlink: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(real)
	if !strings.Contains(string(data), `"a@x"`) {
		t.Errorf("target not updated: %s", data)
	}
}

func TestUpdateNeverRewritesInvalidFile(t *testing.T) {
	for name, content := range map[string]string{
		"syntax":        `{"https://x": {`,
		"invalid entry": `{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			os.WriteFile(path, []byte(content), 0o600)
			err := Update(path, testOptions(t), insertOne("https://y", "b@y", "u"))
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Path != path {
				t.Fatalf("Update error = %v, want *InvalidError naming the file", err)
			}
			if data, _ := os.ReadFile(path); string(data) != content {
				t.Errorf("file changed to %s", data)
			}
		})
	}
}

func TestUpdateNoChangeLeavesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	content := `{"https://x": {}}` // not in cryosparc-tools' layout
	os.WriteFile(path, []byte(content), 0o600)
	err := Update(path, testOptions(t), func(*Sessions) error { return ErrNoChange })
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != content {
		t.Errorf("file rewritten: %s", data)
	}
}

func TestUpdateRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	stale := filepath.Join(dir, ".auth.json.tmp-123")
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(stale, []byte("half"), 0o600)
	os.WriteFile(other, []byte("keep"), 0o600)
	if err := Update(path, testOptions(t), insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated file removed: %v", err)
	}
}

// TestLockTimeout holds the lock from another process and checks that an
// update gives up after the timeout with ErrLockTimeout, file untouched.
func TestLockTimeout(t *testing.T) {
	testkit.Need(t, "flock")
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte("{}"), 0o600)
	holder := exec.Command("flock", "-o", path+".lock", "sleep", "5")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	// Wait until the holder has the lock.
	for i := 0; ; i++ {
		if exec.Command("flock", "-n", path+".lock", "true").Run() != nil {
			break
		}
		if i > 200 {
			t.Fatal("holder never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	opt := testOptions(t)
	opt.LockTimeout = 200 * time.Millisecond
	err := Update(path, opt, insertOne("https://x", "a@x", "t"))
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Update error = %v, want ErrLockTimeout", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{}" {
		t.Errorf("file changed: %s", data)
	}
	// The lock dies with its process.
	holder.Process.Kill()
	holder.Wait()
	if err := Update(path, opt, insertOne("https://x", "a@x", "t")); err != nil {
		t.Fatalf("Update after the holder died: %v", err)
	}
}

// TestLoadRetriesTornFile checks that a read of a half-written file waits for
// the writer instead of failing.
func TestLoadRetriesTornFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(`{"https://x": {"a@x": {"token": {"acc`), 0o600)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(30 * time.Millisecond)
		os.WriteFile(path, []byte(`{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`), 0o600)
	}()
	opt := testOptions(t)
	opt.Sleep = nil // a real writer, in real time
	s, err := Load(path, opt)
	<-done
	if err != nil || s.Len() != 1 {
		t.Fatalf("Load = %d sessions, %v; want the whole file", s.Len(), err)
	}
}

func TestLoadMissingAndEmpty(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(filepath.Join(dir, "none.json"), testOptions(t))
	if err != nil || s.Len() != 0 {
		t.Errorf("missing file: %v, %d", err, s.Len())
	}
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o600)
	s, err = Load(empty, testOptions(t))
	if err != nil || s.Len() != 0 {
		t.Errorf("empty file: %v, %d", err, s.Len())
	}
}

func TestLoadWarnsAboutOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte("{}"), 0o644)
	os.Chmod(path, 0o644)
	var warned []string
	opt := &Options{Warn: func(m string) { warned = append(warned, m) }}
	if _, err := Load(path, opt); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "0644") || !strings.Contains(warned[0], "chmod 600") {
		t.Errorf("warnings = %q, want one about 0644 with the fix", warned)
	}
	os.Chmod(path, 0o600)
	warned = nil
	Load(path, opt)
	if len(warned) != 0 {
		t.Errorf("warned about a 0600 file: %q", warned)
	}
}
