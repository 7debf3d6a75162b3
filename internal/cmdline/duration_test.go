package cmdline

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"+90s", 90 * time.Second, true},
		{"36500d", 36500 * 24 * time.Hour, true},
		// Negative durations are refused everywhere, and no sum overflows.
		{"-1s", 0, false},
		{"-0s", 0, false},
		{" -1h", 0, false},
		{"1d-1h", 0, false},
		{"+1d", 0, false},
		{"-1d", 0, false},
		{"36500d1s", 0, false},
		{"36500d2562047h", 0, false},
		{"2562047h", 0, false},
		{"9223372036854775807ns", 0, false},
		{"99999999999999999999d", 0, false},
		{"5", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"1dd", 0, false},
		{"3 days", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "30d") {
			t.Errorf("error %q does not name the accepted forms", err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1d12h", "90s", "5", "-1d", "-1s", "36500d2562047h", "1d+1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		if d < 0 || d > maxDuration {
			t.Fatalf("%q → %v: outside 0 to 100 years", s, d)
		}
		// What is accepted prints back as something accepted, to the same value.
		v := durationFlag{d}
		if back, err := parseDuration(v.String()); err != nil || back != d {
			t.Fatalf("%q → %v → %q → %v, %v", s, d, v.String(), back, err)
		}
	})
}
