package expiry

import "testing"

// FuzzParseExpiry checks that every accepted expiry writes out as text that
// parses back to the same instant and offset.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"2025-01-31T12:00:00Z", "2025-01-31 12:00+0530", "1900000000.5", "2025-01-31T12:00:00.1234567-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		e2, err := ParseDateTime(e.String())
		if err != nil || e2 != e {
			t.Fatalf("%q -> %s -> %v, %v", s, e, e2, err)
		}
	})
}
