package store

import (
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

// Expiry is the instant a session expires, kept with the UTC offset it was
// written with so that a rewrite reproduces it. Its resolution is one
// microsecond, like Python's datetime. Its methods: Time (the instant, in
// the offset written), Unix (seconds), Live(now) (expires after now),
// String (as cryosparc-tools writes it). It is internal/expiry's type (as
// os.FileInfo is fs.FileInfo), where its parsing and formatting live; its
// other methods (AppendTo, UnixMicro, OffsetMin) serve this module's
// packages.
type Expiry = expiry.Expiry

// ErrBadExpiry reports an expiry that cryosparc-tools would reject. It is
// expiry.ErrBad (the same value).
var ErrBadExpiry = errkind.New(errkind.BadInput, "invalid expiry")

// ExpiryFromTime returns t as an Expiry, truncated to microseconds, keeping
// t's UTC offset (rounded down to whole minutes).
func ExpiryFromTime(t time.Time) Expiry { return expiry.FromTime(t) }

// ParseExpiry parses an expiry written as text: RFC 3339 with a zone, in
// every variant cryosparc-tools accepts, or a numeric string of Unix
// seconds (milliseconds above 2×10^10).
func ParseExpiry(s string) (Expiry, error) { return expiry.Parse(s) }

// ParseDateTime parses a date-time with a zone in every RFC 3339 variant
// cryosparc-tools accepts: YYYY-MM-DD, then T, t or a space, then HH:MM,
// optionally :SS and a fraction (truncated to microseconds), then Z, z,
// ±HH:MM or ±HHMM.
func ParseDateTime(s string) (Expiry, error) { return expiry.ParseDateTime(s) }

// expiryFromMicro is the Expiry at unixMicro written with offsetMin
// (expiry.FromMicro): how the record of recent writes stores one.
func expiryFromMicro(unixMicro int64, offsetMin int32) Expiry {
	return expiry.FromMicro(unixMicro, offsetMin)
}
