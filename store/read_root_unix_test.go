//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
