package main

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
		{"-1s", -time.Second, true}, // the flag's user refuses it with its own message
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
	for _, s := range []string{"30d", "1d12h", "90s", "5", "-1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		// What is accepted prints back as something accepted, to the same value.
		v := durationFlag{d}
		if back, err := parseDuration(v.String()); err != nil || back != d {
			t.Fatalf("%q → %v → %q → %v, %v", s, d, v.String(), back, err)
		}
	})
}
