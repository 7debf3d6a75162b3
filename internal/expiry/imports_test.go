package expiry

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingOfStore: this package and every package of this module
// it imports, directly or not (go list -deps), are none of store, helper
// and the command line.
func TestImportsNothingOfStore(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const module = "github.com/cryosparc-credential/cryosparc-credential"
	self := false
	for _, pkg := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(pkg, module+"/")
		if !ok {
			continue
		}
		if rel == "internal/expiry" {
			self = true
		}
		if !strings.HasPrefix(rel, "internal/") || rel == "internal/cmdline" {
			t.Errorf("imports %s", pkg)
		}
	}
	if !self {
		t.Fatalf("go list -deps did not list this package:\n%s", out)
	}
}
