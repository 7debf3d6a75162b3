//go:build unix

package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
// the user's own token, never a neighbour's, never "not found", never exit 3.
//
// shift: two files of the same size, B the sessions of A moved by one place
// (testdata/mixed_writer.py), so a read mixing them finds another user's
// token under an email; before reads were checked for one version, 12 in
// 131,083 gets did. realistic: 3,000 sessions, alternately without and with
// one new login. Rewrites every MIXED_PERIOD_MS (8); each mode runs for
// MIXED_SECONDS (1 with -short, 4 otherwise) or until MIXED_GETS gets;
// scripts/stress.sh runs it for 100,000 gets.
func TestMixedVersionRead(t *testing.T) {
	testkit.Need(t, "python3")
	seconds := envInt("MIXED_SECONDS", 4)
	if testing.Short() {
		seconds = 1
	}
	maxGets := envInt("MIXED_GETS", 0)
	period := envInt("MIXED_PERIOD_MS", 8)
	readers := 4
	binary(t) // built before the clock starts
	cpuHogs(t, 2*runtime.NumCPU())
	for _, mode := range []struct {
		name  string
		users int // the users every version holds: user000000 … user<users-1>, but 0 in shift (B lacks it)
		first int
	}{
		{"shift", 5000, 1},
		{"realistic", 3000, 0},
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "auth.json")
			writer := exec.Command("python3", "testdata/mixed_writer.py", file, mode.name, "0", strconv.Itoa(period))
			var wout, werr strings.Builder
			writer.Stdout, writer.Stderr = &wout, &werr
			if err := writer.Start(); err != nil {
				t.Fatal(err)
			}
			stop := func() {
				os.WriteFile(file+".stop", nil, 0o600)
				writer.Wait()
			}
			defer stop()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the writer wrote nothing: %s", werr.String())
				}
			}

			var (
				mu                                  sync.Mutex
				gets, wrong, notFound, exit3, other int
				wg                                  sync.WaitGroup
			)
			end := time.Now().Add(time.Duration(seconds) * time.Second)
			more := func() bool {
				mu.Lock()
				defer mu.Unlock()
				return time.Now().Before(end) && (maxGets == 0 || gets < maxGets)
			}
			for r := 0; r < readers; r++ {
				wg.Add(1)
				go func(seed int64) {
					defer wg.Done()
					rng := rand.New(rand.NewSource(seed))
					for more() {
						n := mode.first + rng.Intn(mode.users-mode.first)
						out, stderr, code := runBinary(t, fmt.Sprintf("url=https://cs.example.com\nemail=user%06d@example.com\n", n), "--file", file, "get")
						want := fmt.Sprintf("access_token=tok-%06d\n", n)
						mu.Lock()
						gets++
						switch {
						case code == 0 && strings.Contains(out, want):
						case code == 0:
							wrong++
							if wrong <= 5 {
								t.Errorf("user%06d got a token of another version: %q", n, out)
							}
						case code == 1:
							notFound++
							if notFound <= 5 {
								t.Errorf("user%06d: false not found: %s", n, stderr)
							}
						case code == 3:
							exit3++
							if exit3 <= 5 {
								t.Errorf("user%06d: exit 3: %s", n, stderr)
							}
						default:
							other++
							t.Errorf("user%06d: exit %d: %s", n, code, stderr)
						}
						mu.Unlock()
					}
				}(time.Now().UnixNano() + int64(r))
			}
			wg.Wait()
			stop()
			if werr.Len() > 0 {
				t.Fatalf("writer: %s", werr.String())
			}
			t.Logf("%s: %d gets during %s rewrites (every %d ms, %d CPU hogs): %d wrong tokens, %d false not found, %d exit 3, %d other",
				mode.name, gets, strings.TrimSpace(wout.String()), period, 2*runtime.NumCPU(), wrong, notFound, exit3, other)
			if gets == 0 {
				t.Error("no get ran")
			}
		})
	}
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
		// -P: only the calls on the session file are counted and failed.
		args := []string{"-f", "-qq", "-o", "/dev/null", "-P", file, "-e", "inject=" + inject, binary(t), "--file", file, "get"}
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
