package lockfile

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cryosparc-credential/cryosparc-credential"

// TestImportsNothingOfStore: this package, internal/safefile and
// internal/renewal, and every package of this module they import, on every
// OS, import no package of this module but under internal/ (so never
// store, which imports the first two, nor helper, which imports all three).
func TestImportsNothingOfStore(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var visit func(pkg string)
	visit = func(pkg string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files for %s: %v", pkg, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rel, ok := strings.CutPrefix(path, module+"/")
				if !ok {
					continue
				}
				if !strings.HasPrefix(rel, "internal/") {
					t.Errorf("%s imports %s", filepath.Base(name), path)
					continue
				}
				visit(rel)
			}
		}
	}
	visit("internal/lockfile")
	visit("internal/safefile")
	visit("internal/renewal")
	if !seen["internal/safefile"] || len(seen) < 3 {
		t.Errorf("imports followed: %v", seen)
	}
}
