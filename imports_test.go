package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOneWay: the imports of this module's packages go one way
// (docs/architecture.md): no package under internal/ but the command line
// and the tests' kit depends, directly or not, on store, helper or the
// command line; store depends on no helper, protocol or command line; and
// the root is main.go alone, calling the command line. Read from go list
// -deps for the packages of every OS the product is built for.
func TestImportsOneWay(t *testing.T) {
	const module = "github.com/cryosparc-credential/cryosparc-credential"
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOOS=%s go list: %v", goos, err)
		}
		imports := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if rel, ok := strings.CutPrefix(f[0], module); ok {
				var own []string
				for _, imp := range f[1:] {
					if r, ok := strings.CutPrefix(imp, module+"/"); ok {
						own = append(own, r)
					}
				}
				imports[strings.TrimPrefix(rel, "/")] = own
			}
		}
		deps := func(pkg string) map[string]bool {
			seen := map[string]bool{}
			var visit func(string)
			visit = func(p string) {
				for _, d := range imports[p] {
					if !seen[d] {
						seen[d] = true
						visit(d)
					}
				}
			}
			visit(pkg)
			return seen
		}
		checked := 0
		for pkg := range imports {
			var banned []string
			switch {
			case pkg == "internal/cmdline" || pkg == "internal/testkit" || !strings.HasPrefix(pkg, "internal/") && pkg != "store":
				continue
			case pkg == "store":
				banned = []string{"helper", "protocol", "internal/cmdline", "internal/api", "internal/renewal"}
			default:
				banned = []string{"store", "helper", "protocol", "internal/cmdline"}
			}
			checked++
			d := deps(pkg)
			for _, b := range banned {
				if d[b] {
					t.Errorf("GOOS=%s: %s depends on %s", goos, pkg, b)
				}
			}
		}
		if checked < 10 {
			t.Fatalf("GOOS=%s: only %d packages checked; go list gave %q", goos, checked, out)
		}
		if got := imports[""]; len(got) != 1 || got[0] != "internal/cmdline" {
			t.Errorf("GOOS=%s: the root imports %q, want internal/cmdline alone", goos, got)
		}
	}
}
