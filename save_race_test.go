//go:build unix

package main

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// saveRace runs cryosparc-tools' login pattern (testdata/save_race_writer.py:
// load, insert one session, save by truncating and writing, no lock) saves
// times in a loop while two loops of `store` (each run under wrap, when
// given) add sessions of their own to the same file, until the writer is
// done. It returns how many of the writer's sessions and of the stores'
// are missing from the file at the end, and how many stores succeeded.
func saveRace(t *testing.T, saves, pauseMS, seed int, wrap ...string) (writerLost, storeLost, stores int) {
	const url = "https://race.example.com"
	file := filepath.Join(t.TempDir(), "auth.json")
	if _, stderr, code := runBinary(t, "url="+url+"\nemail=seed@x\naccess_token=seed\n", "--file", file, "store"); code != 0 {
		t.Fatalf("seeding the file: exit %d %s", code, stderr)
	}
	writer := exec.Command("python3", "testdata/save_race_writer.py", file, url, strconv.Itoa(saves), strconv.Itoa(pauseMS), strconv.Itoa(seed))
	out, err := writer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var werr strings.Builder
	writer.Stderr = &werr
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	var written []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sc := bufio.NewScanner(out); sc.Scan(); {
			written = append(written, sc.Text())
		}
	}()
	var (
		mu     sync.Mutex
		stored []string
		wg     sync.WaitGroup
	)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				email := fmt.Sprintf("store%d-%d@example.com", g, i)
				args := append(append([]string{}, wrap...), binary(t), "--file", file, "store")
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Stdin = strings.NewReader("url=" + url + "\nemail=" + email + "\naccess_token=store-token\n")
				if msg, err := cmd.CombinedOutput(); err != nil {
					if strings.Contains(string(msg), "kept saving into it") {
						// Said so, not silently: a writer that saves
						// faster than a store can replace the file.
						t.Logf("store %s gave up: %s", email, msg)
					} else {
						t.Errorf("store %s: %v %s", email, err, msg)
					}
					continue
				}
				mu.Lock()
				stored = append(stored, email)
				mu.Unlock()
			}
		}()
	}
	<-done
	if err := writer.Wait(); err != nil {
		t.Fatalf("the writer: %v %s", err, werr.String())
	}
	wg.Wait()
	if len(written) != saves {
		t.Fatalf("the writer saved %d times, want %d", len(written), saves)
	}
	pythonValid(t, file)
	s, err := store.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range written {
		if _, ok := s.Find(url, email); !ok {
			writerLost++
		}
	}
	for _, email := range stored {
		if _, ok := s.Find(url, email); !ok {
			storeLost++
		}
	}
	return writerLost, storeLost, len(stored)
}

// TestSaveRace: a cryosparc-tools save that lands in the file a store is
// replacing (it truncated the file before the store's rename, or wrote
// after the store's read) is merged back, not lost. Once with the writer
// saving in a tight loop (pauses of 0–20 ms), once with every fsync of the
// binary held 100 ms by strace and the writer pausing 0–1000 ms, which
// widens each store's window between its read and its rename to catch
// about one save each. Before the merge, 40 to 57% of the writer's
// sessions were lost either way. What remains (docs/reliability.md): a
// save that loaded before a store's last rename and truncated after the
// store's last look saves what it loaded, losing what that store added,
// its own session and any it merged; at most a tenth of the writer's
// sessions may be lost so, and the stores' losses are logged.
func TestSaveRace(t *testing.T) {
	testkit.Need(t, "python3", "-c", "import pydantic")
	saves := envInt("SAVE_RACE_SAVES", 30)
	if testing.Short() {
		saves = 10
	}
	seed := envInt("SAVE_RACE_SEED", 1)
	run := func(t *testing.T, saves, pause int, wrap ...string) {
		writerLost, storeLost, stores := saveRace(t, saves, pause, seed, wrap...)
		t.Logf("writer: %d of %d saves lost; stores: %d of %d lost", writerLost, saves, storeLost, stores)
		if writerLost*10 > saves {
			t.Errorf("%d of the writer's %d sessions lost", writerLost, saves)
		}
	}
	t.Run("as is", func(t *testing.T) { run(t, saves, 20) })
	t.Run("fsync held 100 ms", func(t *testing.T) {
		testkit.Need(t, "strace", "-V")
		// About one save per store: half as many, to bound the time.
		run(t, max(saves/2, 5), 1000, "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:delay_enter=100000")
	})
}
