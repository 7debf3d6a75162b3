package cmdline

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/api"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestReportEveryExportedError feeds every error the packages export, as
// they return it (wrapped), into report: each has a kind, so each gets its
// exit status and one safe line, never "an error of no known kind".
func TestReportEveryExportedError(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{helper.ErrNotFound, exitNotFound},
		{helper.ErrUnhealthy, exitFile},
		{helper.ErrNotValid, exitLogin},
		{helper.ErrUnchecked, exitNetwork},
		{store.ErrLockTimeout, exitFile},
		{store.ErrUnsafe, exitFile},
		{store.ErrBusy, exitFile},
		{store.ErrBadPath, exitUsage},
		{store.ErrBadExpiry, exitUsage},
		{store.ErrNotRepaired, exitFile},
		{store.ErrNotUTF8, exitUsage},
		{store.ErrBadURL, exitUsage},
		{&store.InvalidError{Path: "f", Problems: []store.Problem{{Reason: "r"}}}, exitFile},
		{protocol.ErrBadInput, exitUsage},
		{protocol.ErrUnwritable, exitUsage},
		{api.ErrRefused, exitLogin},
		{api.ErrRejected, exitLogin},
		{api.ErrUnreachable, exitNetwork},
		{api.ErrRedirect, exitNetwork},
		{api.ErrBadURL, exitUsage},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		err := fmt.Errorf("%w: some detail\x1b[2J", tt.err)
		code := report(&stderr, err)
		if code != tt.want || strings.Contains(stderr.String(), "no known kind") {
			t.Errorf("%v: exit %d (%q), want %d", tt.err, code, stderr.String(), tt.want)
		}
		if strings.Count(stderr.String(), "\n") != 1 || strings.Contains(stderr.String(), "\x1b") {
			t.Errorf("%v: not one safe line: %q", tt.err, stderr.String())
		}
	}
	// An error of no kind is said to be one, not passed off as another.
	var stderr strings.Builder
	if code := report(&stderr, errors.New("mystery")); code != exitFile || !strings.Contains(stderr.String(), "no known kind") {
		t.Errorf("an error of no kind: exit %d, %q", code, stderr.String())
	}
}
