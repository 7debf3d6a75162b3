package testkit

import (
	"fmt"
	"strings"
	"testing"
)

// recorder stands in for a test: it records whether it was failed or
// skipped, and why.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }

func TestNeed(t *testing.T) {
	for _, tt := range []struct {
		ci, program string
		check       []string
		fails       bool
		skips       bool
		reason      string
	}{
		{"true", "no-such-program-here", nil, true, false, "no-such-program-here is not installed"},
		{"", "no-such-program-here", nil, false, true, "no-such-program-here is not installed"},
		{"true", "sh", []string{"-c", "exit 3"}, true, false, "`sh -c exit 3` fails"},
		{"", "sh", []string{"-c", "exit 3"}, false, true, "`sh -c exit 3` fails"},
		{"true", "sh", []string{"-c", "exit 0"}, false, false, ""},
	} {
		t.Setenv("CI", tt.ci)
		r := &recorder{TB: t}
		Need(r, tt.program, tt.check...)
		if (r.failed != "") != tt.fails || (r.skipped != "") != tt.skips || !strings.Contains(r.failed+r.skipped, tt.reason) {
			t.Errorf("CI=%q Need(%s %q): failed %q, skipped %q; want fail %v, skip %v, reason %q", tt.ci, tt.program, tt.check, r.failed, r.skipped, tt.fails, tt.skips, tt.reason)
		}
	}
}
