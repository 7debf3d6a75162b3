//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// nobody is the user that plants links in these tests.
const nobody = 65534

// userFolder returns, for a test run as root, a folder of user nobody's
// (home) and one of root's (system) holding a file of root's (victim),
// in a folder others may pass through.
func userFolder(t *testing.T) (home, system, victim string) {
	t.Helper()
	testkit.Require(t, os.Geteuid() == 0, "needs root")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, system = filepath.Join(dir, "home"), filepath.Join(dir, "system")
	os.Mkdir(home, 0o700)
	os.Chown(home, nobody, nobody)
	os.Mkdir(system, 0o755)
	victim = filepath.Join(system, "passwd")
	os.WriteFile(victim, []byte("root:x:0:0\n"), 0o644)
	return home, system, victim
}

// plant makes a link at name in home, as nobody would.
func plant(t *testing.T, name, target string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	os.Lchown(name, nobody, nobody)
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
			afterWalk := func() {
				if err := c.swap(); err != nil {
					testkit.Require(t, false, "cannot swap: "+err.Error())
				}
			}
			f, err := OpenReadAsRoot(path, afterWalk)
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
	afterWalk := func() { os.Remove(plain); plant(t, plain, victim) }
	if f, err := OpenReadAsRoot(plain, afterWalk); err == nil {
		f.Close()
		t.Error("root followed a link swapped in on a path that had none")
	} else if !errors.Is(err, ErrUnsafe) {
		t.Errorf("error %v, want ErrUnsafe", err)
	}
}

// TestReadFolderOpensBesideAsOpenReadAsRoot: root's one walk opens the file
// beside the one a path names (auth.json.recent beside auth.json) exactly
// as a walk of its own would: OpenBeside gives what OpenReadAsRoot of the
// name beside the path (beside where the path leads, when the path is a
// link) gives, the same file or the same refusal, word for word, whatever
// links of the user's or root's lead there or stand at that name.
func TestReadFolderOpensBesideAsOpenReadAsRoot(t *testing.T) {
	home, system, victim := userFolder(t)
	mkdir := func(dir string, uid int) {
		t.Helper()
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chown(dir, uid, uid)
	}
	write := func(path, content string, uid int) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(path, uid, uid)
	}
	for _, c := range []struct {
		name string
		// setup makes the case's files in dir, a folder of the user's,
		// and returns the path to walk and the name beside it that
		// OpenReadAsRoot is to open.
		setup  func(dir string) (path, beside string)
		wantOK bool
	}{
		{"a file of the user's beside", func(dir string) (string, string) {
			write(filepath.Join(dir, "auth.json"), "s", nobody)
			write(filepath.Join(dir, "auth.json.recent"), "user's", nobody)
			return filepath.Join(dir, "auth.json"), filepath.Join(dir, "auth.json.recent")
		}, true},
		{"nothing beside", func(dir string) (string, string) {
			write(filepath.Join(dir, "auth.json"), "s", nobody)
			return filepath.Join(dir, "auth.json"), filepath.Join(dir, "auth.json.recent")
		}, false},
		{"through the user's folder link, a file of root's beside", func(dir string) (string, string) {
			mkdir(filepath.Join(dir, "real"), nobody)
			write(filepath.Join(dir, "real", "auth.json"), "s", nobody)
			write(filepath.Join(dir, "real", "auth.json.recent"), "root's", 0)
			plant(t, filepath.Join(dir, "cfg"), filepath.Join(dir, "real"))
			return filepath.Join(dir, "cfg", "auth.json"), filepath.Join(dir, "cfg", "auth.json.recent")
		}, false},
		{"through the user's folder link into root's folder, nothing beside", func(dir string) (string, string) {
			sub := filepath.Join(system, filepath.Base(dir))
			mkdir(sub, 0)
			write(filepath.Join(sub, "auth.json"), "s", nobody)
			plant(t, filepath.Join(dir, "cfg"), sub)
			return filepath.Join(dir, "cfg", "auth.json"), filepath.Join(dir, "cfg", "auth.json.recent")
		}, false},
		{"the path the user's link to the user's file, a file of root's beside that", func(dir string) (string, string) {
			mkdir(filepath.Join(dir, "dot"), nobody)
			write(filepath.Join(dir, "dot", "auth.json"), "s", nobody)
			write(filepath.Join(dir, "dot", "auth.json.recent"), "root's", 0)
			plant(t, filepath.Join(dir, "mine.json"), filepath.Join(dir, "dot", "auth.json"))
			return filepath.Join(dir, "mine.json"), filepath.Join(dir, "dot", "auth.json.recent")
		}, true},
		{"the user's link beside, to root's file", func(dir string) (string, string) {
			write(filepath.Join(dir, "auth.json"), "s", nobody)
			plant(t, filepath.Join(dir, "auth.json.recent"), victim)
			return filepath.Join(dir, "auth.json"), filepath.Join(dir, "auth.json.recent")
		}, false},
		{"root's link beside, to the user's file", func(dir string) (string, string) {
			write(filepath.Join(dir, "auth.json"), "s", nobody)
			write(filepath.Join(dir, "other"), "user's", nobody)
			if err := os.Symlink(filepath.Join(dir, "other"), filepath.Join(dir, "auth.json.recent")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "auth.json"), filepath.Join(dir, "auth.json.recent")
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, err := os.MkdirTemp(home, "case")
			if err != nil {
				t.Fatal(err)
			}
			os.Chown(dir, nobody, nobody)
			path, beside := c.setup(dir)
			want, wantErr := OpenReadAsRoot(beside, nil)
			r, err := OpenReadFolderAsRoot(path, nil)
			if err != nil {
				t.Fatalf("the walk of %s: %v", path, err)
			}
			defer r.Close()
			got, name, gotErr := r.OpenBeside(".recent")
			if name != beside {
				t.Errorf("named %s, want %s", name, beside)
			}
			read := func(f *os.File) string {
				if f == nil {
					return ""
				}
				defer f.Close()
				data, _ := io.ReadAll(f)
				return string(data)
			}
			wantData, gotData := read(want), read(got)
			if (wantErr == nil) != c.wantOK {
				t.Fatalf("OpenReadAsRoot(%s): %v; the case is not what it says", beside, wantErr)
			}
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || gotData != wantData {
				t.Errorf("OpenBeside: %q, %v; OpenReadAsRoot: %q, %v", gotData, gotErr, wantData, wantErr)
			}
			if errors.Is(wantErr, fs.ErrNotExist) != errors.Is(gotErr, fs.ErrNotExist) || errors.Is(wantErr, ErrUnsafe) != errors.Is(gotErr, ErrUnsafe) {
				t.Errorf("OpenBeside: %v; OpenReadAsRoot: %v: not the same kind", gotErr, wantErr)
			}
		})
	}
}

// TestReadFolderIsTheFolderWalked: both files a root read opens come from
// the folder walked, whatever the path leads to since: the user's folder
// swapped for a link to a folder of root's after the walk does not bring
// root's files into the read.
func TestReadFolderIsTheFolderWalked(t *testing.T) {
	home, system, _ := userFolder(t)
	cfg := filepath.Join(home, "cfg")
	rootCfg := filepath.Join(system, "cfg")
	for _, d := range []struct {
		dir, who string
		uid      int
	}{{cfg, "user's", nobody}, {rootCfg, "root's", 0}} {
		os.Mkdir(d.dir, 0o700)
		os.Chown(d.dir, d.uid, d.uid)
		for _, name := range []string{"auth.json", "auth.json.recent"} {
			os.WriteFile(filepath.Join(d.dir, name), []byte(d.who+" "+name), 0o600)
			os.Chown(filepath.Join(d.dir, name), d.uid, d.uid)
		}
	}
	r, err := OpenReadFolderAsRoot(filepath.Join(cfg, "auth.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Rename(cfg, filepath.Join(home, "moved")); err != nil {
		t.Fatal(err)
	}
	plant(t, cfg, rootCfg)
	f, _, err := r.OpenBeside(".recent")
	if err != nil {
		t.Fatal(err)
	}
	recent, _ := io.ReadAll(f)
	f.Close()
	if f, err = r.Open(); err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(f)
	f.Close()
	if string(recent) != "user's auth.json.recent" || string(file) != "user's auth.json" {
		t.Errorf("read %q and %q, want the user's files, from the folder walked", recent, file)
	}
	if uid, ok := r.FileOwner(); !ok || uid != nobody {
		t.Errorf("FileOwner: %d %v, want the user's file's, %d", uid, ok, nobody)
	}
}

// TestOpenNoLinksOnlyWithoutLinks: root's read takes the one-pass walk
// only for a path with no link on it (nor anything else the walk that
// resolves links would have a word for); every other path goes through
// that walk and its checks.
func TestOpenNoLinksOnlyWithoutLinks(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o700)
	os.WriteFile(filepath.Join(dir, "real", "auth.json"), []byte("{}"), 0o600)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "cfg"))
	os.Symlink(filepath.Join(dir, "real", "auth.json"), filepath.Join(dir, "real", "link.json"))
	for _, c := range []struct {
		path    string
		oneWalk bool
	}{
		{"real/auth.json", true},
		{"real/missing.json", true},       // no file, no link: nothing to check
		{"real/../real/auth.json", false}, // ".." is left to the walk that reads it from the text
		{"cfg/auth.json", false},          // a folder that is a link
		{"real/link.json", false},         // the file a link
		{"gone/auth.json", false},         // a folder missing
		{"real/auth.json/x", false},       // a file as a folder
		{"real/", false},                  // a folder, not a file
		{"real/auth.json/..", false},      // the same
		{"cfg/../real/auth.json", false},
	} {
		r := openNoLinks(dir+"/"+c.path, nil)
		if (r != nil) != c.oneWalk {
			t.Errorf("%s: one walk %v, want %v", c.path, r != nil, c.oneWalk)
		}
		if r == nil {
			continue
		}
		f, err := r.Open()
		if _, statErr := os.Lstat(dir + "/" + c.path); (err == nil) != (statErr == nil) {
			t.Errorf("%s: Open %v, while the file is there: %v", c.path, err, statErr == nil)
		}
		if f != nil {
			f.Close()
		}
		r.Close()
	}
}
