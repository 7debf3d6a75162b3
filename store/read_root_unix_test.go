//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// TestRootReadsNoPlantedLink: as root, a read follows no link a user
// planted toward what the user does not own, as writes do not: neither
// Load nor Lookup gives the linked file's token, and the error says why. A
// user's link into the user's own files, and root's own link, are followed
// as ever; a dangling one holds no sessions, as for any reader.
func TestRootReadsNoPlantedLink(t *testing.T) {
	home, system, _ := userFolder(t)
	const secret = "ROOT-SECRET-TOKEN"
	rootFile := filepath.Join(system, "auth.json")
	writeSession := func(path, token string) {
		t.Helper()
		content := `{"https://x": {"a@x": {"token": {"access_token": "` + token + `", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeSession(rootFile, secret)
	own := filepath.Join(home, "dotfiles")
	os.Mkdir(own, 0o700)
	os.Chown(own, nobody, nobody)
	writeSession(filepath.Join(own, "auth.json"), "user-token")
	os.Chown(filepath.Join(own, "auth.json"), nobody, nobody)

	opt := testOptions(t)
	read := func(path string) (string, error) {
		s, err := Load(path, opt)
		var tokens []string
		if s != nil {
			for _, sess := range s.All() {
				tokens = append(tokens, sess.Token)
			}
		}
		sess, _, lerr := Lookup(path, opt, "https://x", "a@x")
		if (err == nil) != (lerr == nil) {
			t.Errorf("%s: Load says %v, Lookup %v", path, err, lerr)
		}
		return strings.Join(tokens, ",") + "|" + sess.Token, err
	}
	for _, c := range []struct{ name, link, target, file string }{
		{"auth.json to root's file", "auth.json", rootFile, "auth.json"},
		{"a folder to root's folder", "cfg", system, "cfg/auth.json"},
		{"a chain through the user's own link", "chain", filepath.Join(home, "auth.json"), "chain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plant(t, filepath.Join(home, c.link), c.target)
			got, err := read(filepath.Join(home, c.file))
			if strings.Contains(got, secret) {
				t.Errorf("root read the linked file's token: %q", got)
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "link owned by user") {
				t.Errorf("root through a planted link: %v, want it refused, saying why", err)
			}
		})
	}
	t.Run("the user's own file", func(t *testing.T) {
		plant(t, filepath.Join(home, "mine.json"), filepath.Join(own, "auth.json"))
		if got, err := read(filepath.Join(home, "mine.json")); err != nil || got != "user-token|user-token" {
			t.Errorf("root through the user's link to the user's file: %q, %v", got, err)
		}
	})
	t.Run("root's own link", func(t *testing.T) {
		link := filepath.Join(home, "roots.json")
		if err := os.Symlink(rootFile, link); err != nil {
			t.Fatal(err)
		}
		if got, err := read(link); err != nil || got != secret+"|"+secret {
			t.Errorf("root through its own link: %q, %v", got, err)
		}
	})
	t.Run("a dangling link", func(t *testing.T) {
		plant(t, filepath.Join(home, "gone"), filepath.Join(system, "missing", "dir"))
		if got, err := read(filepath.Join(home, "gone", "auth.json")); err != nil || got != "|" {
			t.Errorf("root through a dangling link: %q, %v; want no sessions", got, err)
		}
	})
}

// TestOpenReadAsRootChecksWhatItOpened: the file root opens through a
// user's link must be the user's, whatever the path showed when it was
// looked at: what the user swaps in between the look and the open (a file
// of root's in place of the user's, or a link) is refused, checked on
// what was opened.
func TestOpenReadAsRootChecksWhatItOpened(t *testing.T) {
	home, _, victim := userFolder(t)
	mine := filepath.Join(home, "mine")
	path := filepath.Join(home, "auth.json")
	reset := func() {
		os.Remove(mine)
		os.WriteFile(mine, []byte("{}"), 0o600)
		os.Chown(mine, nobody, nobody)
	}
	reset()
	plant(t, path, mine)
	for _, c := range []struct {
		name string
		swap func() error
	}{
		{"nothing swapped", func() error { return nil }},
		// A hard link stands for any way the user's file could become
		// root's: the path looked at was the user's, what is opened is not.
		{"a file of root's", func() error { os.Remove(mine); return os.Link(victim, mine) }},
		{"a link to root's file", func() error { os.Remove(mine); plant(t, mine, victim); return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			reset()
			opt := &Options{afterRootWalk: func() {
				if err := c.swap(); err != nil {
					testkit.Require(t, false, "cannot swap: "+err.Error())
				}
			}}
			f, err := openReadAsRoot(path, opt)
			if c.name == "nothing swapped" {
				if err != nil {
					t.Fatalf("the user's own file: %v", err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatal("root opened through a user's link what the user swapped in")
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("error %v, want ErrUnsafe", err)
			}
			t.Log(err)
		})
	}
	// A path with no link at all when looked at: a link swapped in before
	// the open is refused too, not followed.
	plain := filepath.Join(home, "plain.json")
	os.WriteFile(plain, []byte("{}"), 0o600)
	os.Chown(plain, nobody, nobody)
	opt := &Options{afterRootWalk: func() { os.Remove(plain); plant(t, plain, victim) }}
	if f, err := openReadAsRoot(plain, opt); err == nil {
		f.Close()
		t.Error("root followed a link swapped in on a path that had none")
	} else if !errors.Is(err, ErrUnsafe) {
		t.Errorf("error %v, want ErrUnsafe", err)
	}
}
