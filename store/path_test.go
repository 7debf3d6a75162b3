//go:build unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathsAsTheKernelResolvesThem: every spelling of the session file's
// path reaches the file open(2) reaches, with real links in a temporary
// folder: resolve's answer is compared with where os.OpenFile (open(2)
// with O_CREAT) creates the file, and where it fails, Update must refuse
// and create nothing.
func TestPathsAsTheKernelResolvesThem(t *testing.T) {
	type layout struct{ dirs, links []string } // links: "name -> target"
	tests := []struct {
		name   string
		layout layout
		path   string // under the temporary folder
		// Folders open(2) needs that do not exist: made first for the
		// kernel's answer, as mkdir -p would (Update makes them).
		mkdir  string
		refuse bool // open(2) fails: Update must refuse
	}{
		{name: "link/.. climbs from the link's target",
			layout: layout{dirs: []string{"home", "real/deep/x", "real/deep/cfg"}, links: []string{"home/link -> ../real/deep/x"}},
			path:   "home/link/../cfg/auth.json"},
		{name: "link/.. into a folder still to be made",
			layout: layout{dirs: []string{"home", "real/deep/x"}, links: []string{"home/link -> ../real/deep/x"}},
			path:   "home/link/../new/auth.json", mkdir: "real/deep/new"},
		{name: "a missing folder then ..",
			layout: layout{dirs: []string{"home"}},
			path:   "home/new/../other/auth.json", refuse: true},
		{name: "an absolute link to a folder",
			layout: layout{dirs: []string{"real/cfg"}, links: []string{"cfg -> @/real/cfg"}},
			path:   "cfg/cryosparc-tools/auth.json", mkdir: "real/cfg/cryosparc-tools"},
		{name: "a file link whose target is to be created",
			layout: layout{dirs: []string{"home/.config", "shared"}, links: []string{"home/.config/auth.json -> ../../shared/auth.json"}},
			path:   "home/.config/auth.json"},
		{name: "a dangling folder link",
			layout: layout{dirs: []string{"home"}, links: []string{"home/.config -> @/nonexist/deep"}},
			path:   "home/.config/cryosparc-tools/auth.json", refuse: true},
		{name: "a dangling relative folder link",
			layout: layout{dirs: []string{"home"}, links: []string{"home/.config -> ../gone/deep"}},
			path:   "home/.config/cryosparc-tools/auth.json", refuse: true},
		{name: "a file link into a missing folder",
			layout: layout{dirs: []string{"home/.config"}, links: []string{"home/.config/auth.json -> ../missing/deep/auth.json"}},
			path:   "home/.config/auth.json", refuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func(root string) {
				for _, d := range tt.layout.dirs {
					if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
						t.Fatal(err)
					}
				}
				for _, l := range tt.layout.links {
					name, target, _ := strings.Cut(l, " -> ")
					target = strings.Replace(target, "@", root, 1)
					if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The kernel's answer, in a copy of the layout.
			kroot := t.TempDir()
			build(kroot)
			for _, d := range strings.Fields(tt.mkdir) {
				os.MkdirAll(filepath.Join(kroot, d), 0o700)
			}
			f, kerr := os.OpenFile(kroot+"/"+tt.path, os.O_WRONLY|os.O_CREATE, 0o600)
			if (kerr != nil) != tt.refuse {
				t.Fatalf("open(2): %v; the test expects it to fail: %v", kerr, tt.refuse)
			}
			var kernel string
			if f != nil {
				f.Close()
				kernel = whereIs(t, kroot, kroot+"/"+tt.path)
			}

			root := t.TempDir()
			build(root)
			path := root + "/" + tt.path // not cleaned: the kernel is to resolve ".."
			before := tree(t, root)
			err := Update(path, testOptions(t), insertOne("https://x", "a@x", "t"))
			if tt.refuse {
				if !(errors.Is(err, ErrUnsafe) || errors.Is(err, ErrBadPath)) || !strings.Contains(err.Error(), "does not exist") {
					t.Errorf("Update = %v, want a refusal naming the missing folder", err)
				}
				if after := tree(t, root); after != before {
					t.Errorf("created:\n%s\nwas:\n%s", after, before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := whereIs(t, root, path); got != kernel {
				t.Errorf("Update wrote %s; open(2) reaches %s", got, kernel)
			}
			if s, err := Load(path, testOptions(t)); err != nil || s.Len() != 1 {
				t.Errorf("read back through the same path: %v", err)
			}
		})
	}
}

// whereIs returns the file path reaches, relative to root, found by
// looking for the same file under root.
func whereIs(t *testing.T, root, path string) string {
	t.Helper()
	want, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	found := ""
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && os.SameFile(fi, want) {
			found, _ = filepath.Rel(root, p)
		}
		return nil
	})
	return found
}

// tree lists what is under root.
func tree(t *testing.T, root string) string {
	var b strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		b.WriteString(rel + "\n")
		return nil
	})
	return b.String()
}

// TestDefaultPathKeepsDotDot: XDG_CONFIG_HOME and the home folder are
// joined as text, not cleaned, so that link/.. is left to the kernel, as
// cryosparc-tools (pathlib) leaves it.
func TestDefaultPathKeepsDotDot(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	for _, tt := range []struct {
		xdg, home, want string
	}{
		{"/h/link/../cfg", "/h", "/h/link/../cfg/cryosparc-tools/auth.json"},
		{"/h/link/../cfg/", "/h", "/h/link/../cfg/cryosparc-tools/auth.json"},
		{"/", "/h", "/cryosparc-tools/auth.json"},
		{"", "/h/link/..", "/h/link/../.config/cryosparc-tools/auth.json"},
		{"", "/", "/.config/cryosparc-tools/auth.json"},
	} {
		if got := DefaultPath("linux", env(map[string]string{"XDG_CONFIG_HOME": tt.xdg}), tt.home); got != tt.want {
			t.Errorf("XDG_CONFIG_HOME=%q home %q: %q, want %q", tt.xdg, tt.home, got, tt.want)
		}
	}
}
