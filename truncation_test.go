//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestTruncationGap: a get or store that starts as a cryosparc-tools save
// truncates a large file, whose times say it was left alone for 3 s, and
// stalls 0.3 s before writing. On ext4 the file shows size 0 with its old
// times while the kernel frees its blocks (5.6 ms at 20 MB, 18 ms at 100
// MB): a read then must not take it for an abandoned write. No get answers
// "not found" and every get answers its token; no store wipes the file:
// afterwards it holds every session it held, the save's new one and the
// store's. The same on ext4 with 1-second times (a loop mount, as root).
// 20,000 sessions (3.5 MB), 4 stores and 6 gets (1 and 1 with -short);
// GAP_LARGE_SESSIONS=200000 adds a file of that many (35 MB, where the gap
// lasts longest), as scripts/stress.sh does.
func TestTruncationGap(t *testing.T) {
	t.Parallel() // waits 3 s for old times; asserts only what must never happen
	testkit.Need(t, "python3")
	binary(t)
	type place struct {
		name string
		dir  func(t *testing.T) string
		n    int
	}
	places := []place{{"ext4, 20k", func(t *testing.T) string { return t.TempDir() }, 20000}}
	stores, gets := 1, 1
	if !testing.Short() {
		stores, gets = 4, 6
		places = append(places, place{"1-second ext4, 20k", func(t *testing.T) string { return testkit.CoarseMount(t, 256<<20) }, 20000})
	}
	if n := envInt("GAP_LARGE_SESSIONS", 0); n > 0 {
		places = append(places, place{fmt.Sprintf("ext4, %d", n), func(t *testing.T) string { return t.TempDir() }, n})
	}
	for _, p := range places {
		t.Run(p.name, func(t *testing.T) {
			dir := p.dir(t)
			exp := time.Now().Add(48 * time.Hour)
			// The save adds one session, sessiongen's n-th, as insert()
			// would: at the end of its instance.
			before, saved := sessiongen.SessionFile(p.n, 50, exp), sessiongen.SessionFile(p.n+1, 50, exp)
			pyURL, pyEmail, _ := sessiongen.Credential(p.n, 50)
			const url = "https://cs0.example.com"
			// Every trial's file is written first, so that the 3 s wait for
			// old times is waited once.
			type trial struct {
				store bool
				file  string
			}
			var trials []trial
			for i := 0; i < stores+gets; i++ {
				d := filepath.Join(dir, fmt.Sprint(i))
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
				tr := trial{store: i < stores, file: filepath.Join(d, "auth.json")}
				for name, data := range map[string][]byte{"auth.json": before, "save": saved} {
					if err := os.WriteFile(filepath.Join(d, name), data, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				trials = append(trials, tr)
			}
			for i, tr := range trials {
				d := filepath.Dir(tr.file)
				qURL, qEmail, qToken := sessiongen.Credential((i*7919)%p.n, 50)
				input := fmt.Sprintf("url=%s\nemail=%s\n", qURL, qEmail)
				cmd := "get"
				if tr.store {
					input = fmt.Sprintf("url=%s\nemail=new%d@x\naccess_token=new-token\n", url, i)
					cmd = "store"
				}
				if err := os.WriteFile(filepath.Join(d, "input"), []byte(input), 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command("python3", "testdata/truncate_writer.py", tr.file, filepath.Join(d, "save"), "300", filepath.Join(d, "input"), binary(t), "--file", tr.file, cmd).Output()
				if err != nil {
					t.Fatalf("truncate_writer.py: %v", err)
				}
				var r struct {
					Code           int
					Stdout, Stderr string
				}
				if err := json.Unmarshal(out, &r); err != nil {
					t.Fatalf("%v: %q", err, out)
				}
				if !tr.store {
					want := "access_token=" + qToken + "\n"
					if r.Code != 0 || !strings.Contains(r.Stdout, want) {
						t.Errorf("get started as a save truncated the file: exit %d %q %s", r.Code, r.Stdout, r.Stderr)
					}
					continue
				}
				if r.Code != 0 {
					t.Errorf("store started as a save truncated the file: exit %d %s", r.Code, r.Stderr)
				}
				// One more command, then the file as it is.
				if _, stderr, code := runBinary(t, "", "--file", tr.file, "list"); code != 0 {
					t.Fatalf("list: exit %d %s", code, stderr)
				}
				raw, err := os.ReadFile(tr.file)
				if err != nil {
					t.Fatal(err)
				}
				s, err := store.Parse(raw, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() != p.n+2 {
					t.Errorf("store started as a save truncated the file: %d sessions after, want %d (all %d, the save's and the store's)", s.Len(), p.n+2, p.n)
				}
				firstURL, firstEmail, _ := sessiongen.Credential(0, 50)
				lastURL, lastEmail, _ := sessiongen.Credential(p.n-1, 50)
				for _, want := range [][2]string{{pyURL, pyEmail}, {url, fmt.Sprintf("new%d@x", i)}, {firstURL, firstEmail}, {lastURL, lastEmail}} {
					if _, ok := s.Find(want[0], want[1]); !ok {
						t.Errorf("%s at %s lost", want[1], want[0])
					}
				}
			}
		})
	}
}
