//go:build unix

package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestMixedVersionRead runs a writer that rewrites the session file in place
// the way cryosparc-tools' save() does (truncate, then write, no lock),
// alternating between two versions, while 4 loops of get ask for random
// users beside busy CPU hogs: every get must answer from one version, so with
// the user's own token, never a neighbour's, never "not found".
//
// shift: two files of the same size, B the sessions of A moved by one place
// (testdata/mixed_writer.py), so a read mixing them finds another user's
// token under an email; before reads were checked for one version, 12 in
// 131,083 gets did. realistic: 3,000 sessions, alternately without and with
// one new login (not with -short). Each mode runs for MIXED_SECONDS (1
// with -short, 4 otherwise) or until MIXED_GETS gets; scripts/stress.sh runs it for
// 100,000 gets.
//
// Safety is asserted at any speed, liveness where the reader's rule
// promises it (docs/reliability.md, "A reader's liveness"): a reader answers
// once the file stays still for as long as one read takes. In the subtest
// "rewrites" the writer rewrites every MIXED_PERIOD_MS (8), faster than a
// starved reader may read: a get that finds no quiet moment in
// store.MaxWait exits 3, as the rule says, and is counted and reported, not
// failed. In "pauses" the writer pauses 20 times as long as a get of the
// same file took here, under the same hogs, with no writer (measured by the
// test): there a get must never give up.
func TestMixedVersionRead(t *testing.T) {
	testkit.Need(t, "python3")
	seconds := envInt("MIXED_SECONDS", 4)
	if testing.Short() {
		seconds = 1
	}
	maxGets := envInt("MIXED_GETS", 0)
	period := time.Duration(envInt("MIXED_PERIOD_MS", 8)) * time.Millisecond
	binary(t) // built before the clock starts
	hogs := 2 * runtime.NumCPU()
	cpuHogs(t, hogs)
	modes := []mixedMode{{"shift", 5000, 1}, {"realistic", 3000, 0}}
	if testing.Short() {
		modes = modes[:1] // the mode that found mixed reads; the full suite runs both
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			quiet := mode.getTime(t)
			t.Run("rewrites", func(t *testing.T) {
				r := mode.run(t, period, seconds, maxGets, false)
				t.Logf("%s: %d gets during %d rewrites (every %s, %d CPU hogs): %d wrong tokens, %d false not found, %d exit 3 (no quiet moment in %s), %d other",
					mode.name, r.gets, r.rewrites, period, hogs, r.wrong, r.notFound, r.exit3, store.MaxWait, r.other)
			})
			t.Run("pauses", func(t *testing.T) {
				pause := max(period, 20*quiet)
				r := mode.run(t, pause, seconds, maxGets, true)
				t.Logf("%s: %d gets during %d rewrites (every %s: 20 × %s, a get with no writer; %d CPU hogs): %d wrong tokens, %d false not found, %d exit 3, %d other",
					mode.name, r.gets, r.rewrites, pause, quiet, hogs, r.wrong, r.notFound, r.exit3, r.other)
			})
		})
	}
}

// mixedMode is a kind of rewriting of testdata/mixed_writer.py.
type mixedMode struct {
	name  string
	users int // the users every version holds: user000000 … user<users-1>, but 0 in shift (B lacks it)
	first int
}

// mixedResult counts what the gets of one run answered.
type mixedResult struct {
	gets, rewrites, wrong, notFound, exit3, other int
}

// getTime returns the median time a get of the mode's first version takes
// on this machine now, with no writer.
func (m mixedMode) getTime(t *testing.T) time.Duration {
	file := filepath.Join(t.TempDir(), "auth.json")
	if out, err := exec.Command("python3", "testdata/mixed_writer.py", file, m.name, "-1", "0").CombinedOutput(); err != nil {
		t.Fatalf("writing the first version: %v %s", err, out)
	}
	var times []time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		if _, stderr, code := runBinary(t, "url=https://cs.example.com\nemail=user000001@example.com\n", "--file", file, "get"); code != 0 {
			t.Fatalf("get with no writer: exit %d %s", code, stderr)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// run starts the writer rewriting every period and 4 loops of get beside
// it, and checks every answer: a wrong token or a false "not found" always
// fails the test, an exit 3 only when live.
func (m mixedMode) run(t *testing.T, period time.Duration, seconds, maxGets int, live bool) mixedResult {
	file := filepath.Join(t.TempDir(), "auth.json")
	ms := strconv.FormatFloat(float64(period)/float64(time.Millisecond), 'f', 3, 64)
	writer := exec.Command("python3", "testdata/mixed_writer.py", file, m.name, "0", ms)
	var wout, werr strings.Builder
	writer.Stdout, writer.Stderr = &wout, &werr
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			os.WriteFile(file+".stop", nil, 0o600)
			writer.Wait()
		}
	}
	defer stop()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer wrote nothing in a minute: %s", werr.String())
		}
	}

	var (
		mu sync.Mutex
		r  mixedResult
		wg sync.WaitGroup
	)
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	more := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Before(end) && (maxGets == 0 || r.gets < maxGets)
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for more() {
				n := m.first + rng.Intn(m.users-m.first)
				out, stderr, code := runBinary(t, fmt.Sprintf("url=https://cs.example.com\nemail=user%06d@example.com\n", n), "--file", file, "get")
				want := fmt.Sprintf("access_token=tok-%06d\n", n)
				mu.Lock()
				r.gets++
				switch {
				case code == 0 && strings.Contains(out, want):
				case code == 0:
					r.wrong++
					if r.wrong <= 5 {
						t.Errorf("user%06d got a token of another version: %q", n, out)
					}
				case code == 1:
					r.notFound++
					if r.notFound <= 5 {
						t.Errorf("user%06d: false not found: %s", n, stderr)
					}
				case code == 3 && (strings.Contains(stderr, "every time, for") || strings.Contains(stderr, "kept changing for")):
					r.exit3++
					if live && r.exit3 <= 5 {
						t.Errorf("user%06d: exit 3 though the writer paused %s between rewrites: %s", n, period, stderr)
					}
				default:
					r.other++
					t.Errorf("user%06d: exit %d: %s", n, code, stderr)
				}
				mu.Unlock()
			}
		}(time.Now().UnixNano() + int64(g))
	}
	wg.Wait()
	stop()
	if werr.Len() > 0 {
		t.Fatalf("writer: %s", werr.String())
	}
	r.rewrites, _ = strconv.Atoi(strings.TrimSpace(wout.String()))
	if r.gets == 0 {
		t.Error("no get ran")
	}
	return r
}

// TestStaleFileHandle makes the kernel's answer to the binary's opens and
// reads of the session file ESTALE (what NFS answers when another client
// replaced the file), with strace's fault injection: a few of them are
// tried again and get answers with the token; ESTALE on every open gives
// exit 3 after store.MaxWait, saying so, never "not found".
func TestStaleFileHandle(t *testing.T) {
	testkit.Need(t, "strace", "-V")
	file := filepath.Join(t.TempDir(), "auth.json")
	writeLargeFile(t, file, 100)
	get := func(inject string) (string, string, int) {
		// -P: only the calls on the session file are counted and failed:
		// by its path, and by its name in its folder (root opens it
		// folder by folder, relative to the folder's descriptor).
		args := []string{"-f", "-qq", "-o", "/dev/null", "-P", file, "-P", filepath.Base(file), "-e", "inject=" + inject, binary(t), "--file", file, "get"}
		cmd := exec.Command("strace", args...)
		cmd.Stdin = strings.NewReader("url=https://cs7.example.com\nemail=user7@example.com\n")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := cmd.ProcessState.ExitCode()
		if err != nil && code <= 0 {
			t.Fatalf("strace: %v %s", err, errb.String())
		}
		return out.String(), errb.String(), code
	}
	cases := []string{"openat:error=ESTALE:when=1", "openat:error=ESTALE:when=1..5", "pread64:error=ESTALE:when=1", "pread64:error=ESTALE:when=1..3"}
	for _, inject := range cases {
		out, stderr, code := get(inject)
		if code != 0 || !strings.Contains(out, "access_token=") {
			t.Errorf("%s: exit %d %q %s", inject, code, out, stderr)
		}
	}
	if testing.Short() {
		return // the rest waits store.MaxWait
	}
	start := time.Now()
	out, stderr, code := get("openat:error=ESTALE")
	if code != 3 || out != "" || !strings.Contains(stderr, "ESTALE") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("ESTALE on every open: exit %d %q %s", code, out, stderr)
	}
	if waited := time.Since(start); waited < store.MaxWait {
		t.Errorf("ESTALE on every open: gave up after %s", waited)
	}
}
