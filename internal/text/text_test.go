package text

import (
	"strings"
	"testing"
)

func TestSafe(t *testing.T) {
	long := strings.Repeat("a", 70000)
	tests := []struct{ in, want string }{
		{"ali@example.com", "ali@example.com"},
		{"https://cryosparc.example.com:39000", "https://cryosparc.example.com:39000"},
		{"évelyne@exemple.fr", "évelyne@exemple.fr"},
		{"evil\x1b[2J@example.com", `"evil\x1b[2J@example.com"`},
		{"line\nbreak", `"line\nbreak"`},
		{"cr\r", `"cr\r"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"bidi\u202eoverride", `"bidi\u202eoverride"`},
		{long, strings.Repeat("a", MaxShown) + "…"},
		{"\x07" + long, `"\a` + strings.Repeat("a", MaxShown-1) + `…"`},
	}
	for _, tt := range tests {
		if got := Safe(tt.in); got != tt.want {
			t.Errorf("Safe(%.40q) = %.60q, want %.60q", tt.in, got, tt.want)
		}
		if got := Safe(tt.in); len(got) > 4*MaxShown+8 || strings.ContainsAny(got, "\x1b\n\r\x07") {
			t.Errorf("Safe(%.40q) = %.60q: too long or holds a control character", tt.in, got)
		}
	}
}

func FuzzSafe(f *testing.F) {
	f.Add("ali@example.com")
	f.Add("\x1b[31mred")
	f.Fuzz(func(t *testing.T, s string) {
		got := Safe(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("Safe(%q) = %q holds a control character", s, got)
			}
		}
		if len(got) > 4*MaxShown+8 {
			t.Fatalf("Safe(%q) is %d bytes", s, len(got))
		}
	})
}
