//go:build unix

package store

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
)

// TestTempFilePrivateFromCreation checks that the file a change is written
// to is 0600 the moment it exists, whatever the umask.
func TestTempFilePrivateFromCreation(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	target := filepath.Join(t.TempDir(), "auth.json")
	d, err := safefile.OpenFolder(filepath.Dir(target), false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, _, err := newTemp(d, target)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new temporary file has mode %#o, want 0600", fi.Mode().Perm())
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), ".auth.json.tmp-") || filepath.Dir(f.Name()) != filepath.Dir(target) {
		t.Errorf("temporary file %s is not beside %s with the stale-file prefix", f.Name(), target)
	}
}
