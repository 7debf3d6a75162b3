package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// The case of the issue: a file system with 1-second timestamps; a writer
// truncates the file at x.90 s and stalls 1.5 s before writing; a store
// arrives 0.15 s after the truncation. The change time then says x.00, so
// the file looked 2 s old after 1.1 s, and a store took it for abandoned:
// 502 sessions became 1.
const (
	coarseSessions = 502
	coarseArrival  = 150 * time.Millisecond
)

func coarseFile() []byte {
	return sessiongen.SessionFile(coarseSessions, 5, time.Now().Add(30*24*time.Hour))
}

// checkCoarseResult checks that the file holds the sessions it held, the
// writer's and the store's.
func checkCoarseResult(t *testing.T, path string, writer bool) {
	t.Helper()
	s, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := coarseSessions + 1
	if writer {
		want++
		if _, ok := s.Find("https://python.example.com", "py@example.com"); !ok {
			t.Error("the writer's session was lost")
		}
	}
	if _, ok := s.Find("https://go.example.com", "go@x"); !ok {
		t.Error("the stored session was lost")
	}
	if n := len(s.All()); n != want {
		t.Errorf("%d sessions after the store, want %d", n, want)
	}
}

// TestCoarseTimestampsStall (fake clock, 1-second timestamps everywhere:
// the file's, the clock probe's): a store that arrives during a writer's
// stall waits for it, wherever in the second the writer truncated, for a
// stall up to AbandonAfter after the store arrived, and whatever the writer
// wrote before stalling.
func TestCoarseTimestampsStall(t *testing.T) {
	whole := coarseFile()
	fractions := []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 900 * time.Millisecond, 990 * time.Millisecond}
	if testing.Short() {
		fractions = fractions[2:3]
	}
	for _, fraction := range fractions {
		for _, stall := range []time.Duration{1500 * time.Millisecond, coarseArrival + AbandonAfter - 50*time.Millisecond} {
			for _, cut := range []int{0, len(whole) / 3, len(whole) - 1} {
				t.Run(fmt.Sprintf("truncated at x.%03d, stall %s, %d bytes written", fraction/time.Millisecond, stall, cut), func(t *testing.T) {
					path := filepath.Join(t.TempDir(), "auth.json")
					c := newFakeFS(t, time.Second)
					c.write(path, whole)
					c.now = c.now.Add(time.Hour + fraction)
					truncated := c.now
					c.write(path, whole[:cut])
					c.now = c.now.Add(coarseArrival)
					c.onSleep = func(int) {
						if c.now.Sub(truncated) >= stall && c.written["auth.json"] == truncated {
							c.write(path, whole)
						}
					}
					if err := Update(path, c.options(), insertGo); err != nil {
						t.Fatal(err)
					}
					checkCoarseResult(t, path, false)
				})
			}
		}
	}
}

// TestCoarseTimestampsAbandoned: on 1-second timestamps, a torn file left
// alone is still taken for abandoned after AbandonAfter by this program's
// clock, and so is one whose change time is an hour old: never at first
// look (ext4 shows a file truncated before it updates its times).
func TestCoarseTimestampsAbandoned(t *testing.T) {
	whole := coarseFile()
	for _, tt := range []struct {
		age             time.Duration
		minWait, atMost time.Duration
	}{
		{0, AbandonAfter, AbandonAfter + 100*time.Millisecond},
		{900 * time.Millisecond, AbandonAfter, AbandonAfter + 100*time.Millisecond},
		{time.Hour, AbandonAfter, AbandonAfter + 100*time.Millisecond},
	} {
		path := filepath.Join(t.TempDir(), "auth.json")
		c := newFakeFS(t, time.Second)
		c.write(path, whole[:len(whole)/2])
		c.now = c.now.Add(tt.age)
		start := c.now
		_, found, err := Lookup(path, c.options(), "https://cs1.example.com", "")
		waited := c.now.Sub(start)
		var inv *InvalidError
		if found || !errors.As(err, &inv) || !inv.Truncated() {
			t.Errorf("%s old: found %v, err %v, want a file cut short", tt.age, found, err)
		}
		if waited < tt.minWait || waited > tt.atMost {
			t.Errorf("%s old: answered after %s of waiting, want %s to %s", tt.age, waited, tt.minWait, tt.atMost)
		}
	}
}

func insertGo(s *Sessions) error {
	_, err := s.Insert(Session{URL: "https://go.example.com", Email: "go@x", Token: "go", Expires: ExpiryFromTime(time.Now().Add(time.Hour))})
	return err
}

// coarseMount mounts a new ext4 file system whose timestamps have a
// resolution of 1 second (see testkit.CoarseMount).
func coarseMount(t *testing.T) string { return testkit.CoarseMount(t, 64<<20) }

// TestCoarseTimestampsRealMount: the reproduction on a real
// file system with 1-second timestamps (ext4, 128-byte inodes, loop-mounted;
// root only): a cryosparc-tools-style writer (testdata/coarse_writer.py)
// truncates at x.90 s, writes nothing or a third, stalls 1.5 s, then writes
// the rest; a store starts 0.15 s after the truncation. Every session must
// be kept. Before the store's wait was measured by its own clock, 502
// sessions became 1 in 4 of 4 trials.
func TestCoarseTimestampsRealMount(t *testing.T) {
	testkit.Need(t, "python3")
	mnt := coarseMount(t)
	writer := filepath.Join(testkit.Root(t), "testdata", "coarse_writer.py")
	trials := 4
	if testing.Short() {
		trials = 1
	}
	for i := 0; i < trials; i++ {
		cut := []string{"0", "0.33"}[i%2]
		path := filepath.Join(mnt, fmt.Sprintf("auth%d.json", i))
		if err := os.WriteFile(path, coarseFile(), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("python3", writer, path, "0.90", cut, "1.5")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(out).ReadString('\n'); line != "truncated\n" {
			cmd.Wait()
			t.Fatalf("writer: %q %s", line, stderr.String())
		}
		truncated := time.Now()
		time.Sleep(coarseArrival)
		err = Update(path, &Options{LockTimeout: 10 * time.Second}, insertGo)
		waited := time.Since(truncated)
		if werr := cmd.Wait(); werr != nil {
			t.Fatalf("writer: %v %s", werr, stderr.String())
		}
		if err != nil {
			t.Fatalf("trial %d: %v", i, err)
		}
		t.Logf("trial %d (%s of the file written before the stall): the store finished %s after the truncation", i, cut, waited.Round(time.Millisecond))
		checkCoarseResult(t, path, true)
	}
}
