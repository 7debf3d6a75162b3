package store

import (
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
	"github.com/cryosparc-credential/cryosparc-credential/internal/lockfile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/safefile"
	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// TestErrorsAreTheirSources: store's errors that the packages below it
// return are those packages' errors, the same values (==), so that
// errors.Is(err, store.ErrX) holds for what those packages return.
func TestErrorsAreTheirSources(t *testing.T) {
	for _, tt := range []struct {
		name        string
		store, from error
	}{
		{"ErrLockTimeout", ErrLockTimeout, lockfile.ErrTimeout},
		{"ErrUnsafe", ErrUnsafe, safefile.ErrUnsafe},
		{"ErrBadPath", ErrBadPath, safefile.ErrBadPath},
		{"ErrBadExpiry", ErrBadExpiry, expiry.ErrBad},
		{"ErrBadURL", ErrBadURL, urlrule.ErrBadURL},
	} {
		if tt.store != tt.from {
			t.Errorf("store.%s = %#v, want the same value as %#v", tt.name, tt.store, tt.from)
		}
	}
	if ErrUnsafe == ErrBusy || ErrBadPath == ErrBadURL {
		t.Error("two different errors are the same value")
	}
}
