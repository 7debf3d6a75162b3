//go:build !linux

package testkit

import "testing"

// CoarseMount needs Linux's loop mounts: elsewhere the test is skipped.
func CoarseMount(t *testing.T, size int64) string {
	t.Helper()
	Require(t, false, "needs Linux, to loop-mount a file system with 1-second timestamps")
	return ""
}
