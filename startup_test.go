package main

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestNoStartUpCode: no package of this module runs code before main,
// but for the one init listed. A package's variables are laid out by the
// compiler (errors made with errkind.New of constants, functions instead of
// map literals, values found when first needed): an init function, a map
// literal or a variable copied from another package costs every run of the
// program page faults before it starts (docs/performance.md, "Start-up").
func TestNoStartUpCode(t *testing.T) {
	const module = "github.com/cryosparc-credential/cryosparc-credential/"
	allowed := []string{
		// urfave/cli prints help through a package variable: cmdline wraps it
		// once, to tell help cut short by a closed pipe from lost output.
		module + "internal/cmdline.init.0",
	}
	out, err := exec.Command("go", "tool", "nm", binary(t)).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	// pkg.init, pkg.init.N, pkg.map.init.N; not methods named init.
	initFunc := regexp.MustCompile(`^` + regexp.QuoteMeta(module) + `[a-z/]+\.(init|init\.\d+|map\.init\.\d+)$`)
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] == "T" && initFunc.MatchString(f[2]) {
			found = append(found, f[2])
		}
	}
	slices.Sort(found)
	if !slices.Equal(found, allowed) {
		t.Errorf("code that runs before main: %q; want only %q", found, allowed)
	}
}
