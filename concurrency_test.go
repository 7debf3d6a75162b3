//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"

	"github.com/gofrs/flock"
)

// TestNoLostUpdate runs 16 processes × 25 stores against one file while
// readers loop get: every session must be there at the end, the file valid
// for cryosparc-tools, and no reader may ever see a broken file.
func TestNoLostUpdate(t *testing.T) {
	procs, stores := 16, 25
	if testing.Short() {
		procs, stores = 4, 10
	}
	file := filepath.Join(t.TempDir(), "auth.json")
	runBinary(t, "url=https://cs.example.com\nemail=seed@x\naccess_token=seed\n", "--file", file, "store")

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads, badReads atomic.Int64
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, stderr, code := runBinary(t, "url=https://cs.example.com\nemail=seed@x\n", "--file", file, "get")
				reads.Add(1)
				if code != 0 || !strings.Contains(out, "access_token=seed\n") {
					badReads.Add(1)
					t.Errorf("reader: exit %d, %q %q", code, out, stderr)
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for p := 0; p < procs; p++ {
		writers.Add(1)
		go func(p int) {
			defer writers.Done()
			for i := 0; i < stores; i++ {
				in := fmt.Sprintf("url=https://cs.example.com\nemail=p%d-%d@x\naccess_token=tok-%d-%d\nexpires_in=86400\n", p, i, p, i)
				if _, stderr, code := runBinary(t, in, "--file", file, "--lock-timeout", "60s", "store"); code != 0 {
					t.Errorf("store %d/%d: exit %d %s", p, i, code, stderr)
				}
			}
		}(p)
	}
	writers.Wait()
	close(stop)
	readers.Wait()

	s, err := store.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != procs*stores+1 {
		t.Errorf("%d sessions in the file, want %d: updates were lost", got, procs*stores+1)
	}
	for p := 0; p < procs; p++ {
		for i := 0; i < stores; i++ {
			if sess, ok := s.Find("https://cs.example.com", fmt.Sprintf("p%d-%d@x", p, i)); !ok || sess.Token != fmt.Sprintf("tok-%d-%d", p, i) {
				t.Errorf("session p%d-%d missing or wrong", p, i)
			}
		}
	}
	pythonValid(t, file)
	t.Logf("%d stores, %d concurrent reads, %d bad reads", procs*stores, reads.Load(), badReads.Load())
}

// TestKillNeverTearsFile kills a store on a 20,000-session file at random
// moments: the file must always be the old one or the new one, and what
// killed writers leave behind must not pile up.
func TestKillNeverTearsFile(t *testing.T) {
	const sessions = 20000
	kills := 25
	if testing.Short() {
		kills = 5
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	writeLargeFile(t, file, sessions)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	n := sessions
	var killedMidway, completed, leftBefore int
	for k := 0; k < kills; k++ {
		before, _ := os.ReadFile(file)
		email := fmt.Sprintf("killed-%d@x", k)
		cmd := exec.Command(binary(t), "--file", file, "store")
		cmd.Stdin = strings.NewReader("url=https://cs0.example.com\nemail=" + email + "\naccess_token=t\nexpires_in=86400\n")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Intn(60000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		after, _ := os.ReadFile(file)
		s, perr := store.Parse(after, time.Now())
		switch {
		case perr != nil:
			t.Fatalf("kill %d: torn file: %v", k, perr)
		case string(after) == string(before):
			killedMidway++
		case s.Len() == n+1:
			if _, ok := s.Find("https://cs0.example.com", email); !ok {
				t.Fatalf("kill %d: new file without the new session", k)
			}
			n++
			completed++
		default:
			t.Fatalf("kill %d: file is neither old nor new (%d sessions, was %d)", k, s.Len(), n)
		}
		_ = err
		// A killed writer leaves at most one temporary file of its own
		// (its lock file's, its new file's or its record's), and each
		// writer that got the lock removed those of writers killed before
		// it: so one more at most, and at most its own once its new file
		// is in place.
		left := tempFiles(t, dir)
		if len(left) > leftBefore+1 || (string(after) != string(before) && len(left) > 1) {
			t.Fatalf("kill %d: temporary files pile up: %q (%d before)", k, left, leftBefore)
		}
		leftBefore = len(left)
	}
	// The next writer cleans what killed writers left.
	if _, stderr, code := runBinary(t, "url=https://cs0.example.com\nemail=final@x\naccess_token=t\n", "--file", file, "store"); code != 0 {
		t.Fatalf("final store: %d %s", code, stderr)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left after a clean store: %q", left)
	}
	pythonValid(t, file)
	t.Logf("%d kills: %d before the rename, %d after; 0 torn", kills, killedMidway, completed)
}

// TestInPlaceWriterRace rewrites the file the way cryosparc-tools' save()
// does (truncate, then write, no lock) while get runs in a loop: every get
// must succeed.
func TestInPlaceWriterRace(t *testing.T) {
	testkit.Need(t, "python3")
	dir := t.TempDir()
	file := filepath.Join(dir, "auth.json")
	writeLargeFile(t, file, 2000)
	seconds := "2"
	if testing.Short() {
		seconds = "1"
	}
	writer := exec.Command("python3", "testdata/inplace_writer.py", file, seconds)
	var wout strings.Builder
	writer.Stdout = &wout
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- writer.Wait() }()
	gets, failures := 0, 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("python writer: %v", err)
			}
			running = false
		default:
			out, stderr, code := runBinary(t, "url=https://cs7.example.com\nemail=user1007@example.com\n", "--file", file, "get")
			gets++
			if code != 0 || !strings.Contains(out, "access_token=") {
				failures++
				t.Errorf("get %d during in-place rewrite: exit %d %s", gets, code, stderr)
			}
		}
	}
	t.Logf("%d gets during %s in-place rewrites: %d failed", gets, strings.TrimSpace(wout.String()), failures)
}

// TestLockTimeoutExitCode holds the lock (in this process: flock locks an
// open file description, so the binary's own descriptor conflicts with it):
// store gives up after --lock-timeout with exit 3 and a message, and
// changes nothing.
func TestLockTimeoutExitCode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "auth.json")
	runBinary(t, "url=https://x\nemail=a\naccess_token=t\n", "--file", file, "store")
	before, _ := os.ReadFile(file)
	holder := flock.New(file + ".lock")
	if err := holder.Lock(); err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock()
	start := time.Now()
	_, stderr, code := runBinary(t, "url=https://x\nemail=b\naccess_token=SECRET\n", "--file", file, "--lock-timeout", "300ms", "store")
	waited := time.Since(start)
	if code != 3 || !strings.Contains(stderr, "timed out waiting for the lock") || !strings.Contains(stderr, "--lock-timeout") {
		t.Errorf("exit %d, stderr %q; want 3 and a message about the lock", code, stderr)
	}
	if strings.Contains(stderr, "SECRET") {
		t.Errorf("the token leaked: %q", stderr)
	}
	if waited < 300*time.Millisecond {
		t.Errorf("gave up after %s, before the timeout", waited)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("the file changed")
	}
	// get does not need the lock.
	if out, _, code := runBinary(t, "url=https://x\n", "--file", file, "get"); code != 0 || !strings.Contains(out, "access_token=t\n") {
		t.Errorf("get while locked: exit %d %q", code, out)
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
