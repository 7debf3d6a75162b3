package errkind

import (
	"errors"
	"fmt"
	"testing"
)

// TestKinds: an error of each kind is that kind and no other, through
// wrapping; New of the same kind and message is the same error, of another
// message or kind is not; an error without a kind has None, and None is
// never matched.
func TestKinds(t *testing.T) {
	kinds := []Kind{NotFound, BadInput, File, Login, Unreachable, Output}
	for _, k := range kinds {
		for _, err := range []error{
			New(k, "m"),
			Errorf(k, "m %d", 1),
			fmt.Errorf("wrapped: %w", New(k, "m")),
		} {
			if Of(err) != k {
				t.Errorf("Of(%v) = %v, want %v", err, Of(err), k)
			}
			if !errors.Is(err, k) {
				t.Errorf("errors.Is(%v, %v) = false", err, k)
			}
			if errors.Is(err, None) {
				t.Errorf("errors.Is(%v, None) = true", err)
			}
		}
		for _, other := range kinds {
			if other != k && errors.Is(New(k, "m"), other) {
				t.Errorf("New(%v) is also %v", k, other)
			}
		}
	}
	if New(File, "m") != New(File, "m") || !errors.Is(fmt.Errorf("x: %w", New(File, "m")), New(File, "m")) {
		t.Error("New of the same kind and message is not the same error")
	}
	if New(File, "m") == New(File, "n") || New(File, "m") == New(BadInput, "m") || errors.Is(New(File, "m"), New(File, "n")) {
		t.Error("New of another message or kind is the same error")
	}
	if errors.Is(New(None, "m"), None) || errors.Is(Errorf(None, "m"), None) {
		t.Error("an error made of None matches None")
	}
	if Of(errors.New("plain")) != None || Of(nil) != None {
		t.Error("an error without a kind has one")
	}
}
