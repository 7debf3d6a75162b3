//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolve: Resolve's answers alone, without a write: where a path
// leads (".." from a link's target, missing folders kept as written) and
// each refusal with its error (a blank or unexpanded path, a folder, a
// dangling link, ".." after a missing folder, a loop of links).
func TestResolve(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"real/deep/x", "real/deep/cfg", "home"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"home/link":  "../real/deep/x",
		"home/gone":  root + "/nonexist/deep",
		"home/loop1": "loop2",
		"home/loop2": "loop1",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path    string // "@" is the temporary folder
		want    string // "@/…", or the error's text
		wantErr []error
	}{
		{path: "@/home/link/../cfg/auth.json", want: "@/real/deep/cfg/auth.json"},
		{path: "@/home/link/../new/sub/auth.json", want: "@/real/deep/new/sub/auth.json"},
		{path: "", want: "the session file path is blank", wantErr: []error{ErrBadPath}},
		{path: "~/auth.json", want: "which the shell did not expand", wantErr: []error{ErrBadPath}},
		{path: "@/home/", want: "names a folder, not a file", wantErr: []error{ErrBadPath}},
		{path: "@/home/link/..", want: "names a folder, not a file", wantErr: []error{ErrBadPath}},
		{path: "@/home/gone/auth.json", want: "which does not exist", wantErr: []error{ErrUnsafe, ErrDangling}},
		{path: "@/home/new/../auth.json", want: "climbs with \"..\"", wantErr: []error{ErrBadPath}},
		{path: "@/home/loop1/auth.json", want: "too many symbolic links", wantErr: []error{ErrUnsafe}},
	} {
		path := strings.Replace(tt.path, "@", root, 1)
		got, err := Resolve(path)
		if tt.wantErr == nil {
			if want := strings.Replace(tt.want, "@", root, 1); err != nil || got != want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.path, got, err, want)
			}
			continue
		}
		for _, e := range tt.wantErr {
			if !errors.Is(err, e) {
				t.Errorf("Resolve(%q): %v, want %v", tt.path, err, e)
			}
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || got != "" {
			t.Errorf("Resolve(%q) = %q, %v; want an error saying %q", tt.path, got, err, tt.want)
		}
	}
}
