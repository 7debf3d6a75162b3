package text

import (
	"math"
	"strings"
	"testing"
	"time"
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

// TestURL: whatever could be a user name or password (everything before
// the last '@' after the scheme) is never shown, however the URL is spelt;
// a query or fragment is left out; the rest is escaped and cut.
func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://cryosparc.example.com:39000", "https://cryosparc.example.com:39000"},
		{"https://h/Path/", "https://h/Path/"},
		{"cryosparc.example.com:39000", "cryosparc.example.com:39000"},
		{"https://alice:secret@h", "https://***@h"},
		{"https://alice:se/cret@h", "https://***@h"},
		{"https://alice:se?cret@h", "https://***@h"},
		{"https://alice:se#cret@h", "https://***@h"},
		{"https://alice:p@ss/w0rd@h", "https://***@h"},
		{"https://alice:p@ss/w0rd@h:39000/x?q=1", "https://***@h:39000/x…"},
		{"https:/alice:secret@h", "https:/***@h"},
		{"https:///alice:secret@h", "https:///***@h"},
		{"https:alice:secret@h", "https:***@h"},
		{"HTTPS://alice:secret@h", "HTTPS://***@h"},
		{"http://https:/alice:secret@h", "http://***@h"},
		{"alice:secret@h", "***@h"},
		{"alice:se/cret@h", "***@h"},
		{"alice:/secret@h", "***@h"},
		{"//alice:secret@h/", "//***@h/"},
		{"ftp://alice:secret@h", "ftp://***@h"},
		{"https://h/?token=SECRET", "https://h/…"},
		{"https://h/#SECRET", "https://h/…"},
		{"https://h/a@b", "https://***@b"},
		{"", `""`},
		{" https://h", `" https://h"`},
		{"https://x y", `"https://x y"`},
		{"https://h/\x1b[2J", `"https://h/\x1b[2J"`},
		{"https://\x1b]0;title\x07:pw@h", "https://***@h"},
		{"https://h/" + strings.Repeat("a", 300), "https://h/" + strings.Repeat("a", MaxShown-len("https://h/")) + "…"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzURL: for a URL built from a scheme spelling, a user name, a password
// and what follows the '@', what URL shows does not depend on the password
// at all (so it cannot hold any of it), and never holds the password's
// markers; it holds no control character and is bounded.
func FuzzURL(f *testing.F) {
	f.Add(uint8(0), "alice", "se/cret", "h:39000/x?q")
	f.Add(uint8(3), "alice", "p@ss/w0rd", "h")
	f.Add(uint8(5), "", "se?cret", "h#f")
	f.Add(uint8(7), "https", "x", "h")
	prefixes := []string{"https://", "http://", "HTTPS://", "https:/", "https:///", "https:", "//", "", "ftp://", "http:\\\\"}
	f.Fuzz(func(t *testing.T, p uint8, user, password, tail string) {
		if strings.HasPrefix(password, "/") {
			// user "https" and password "//x" spell the scheme https://
			// with user "" and password "x", whose "//" is then shown.
			password = "P" + password
		}
		tail = strings.ReplaceAll(tail, "@", "")
		prefix := prefixes[int(p)%len(prefixes)]
		const mark = "Zq7"
		secret := mark + password + mark
		got := URL(prefix + user + ":" + secret + "@" + tail)
		if other := URL(prefix + user + ":P@" + tail); got != other {
			t.Fatalf("the password changes what is shown: %q, with another password %q", got, other)
		}
		if !strings.Contains(prefix+user+tail, mark) && strings.Contains(got, mark) {
			t.Fatalf("URL shows the password: %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("URL shows a control character: %q", got)
			}
		}
		if len(got) > 4*MaxShown+8 {
			t.Fatalf("URL shows %d bytes", len(got))
		}
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{2 * time.Hour, "2 h"},
		{2*time.Hour + 30*time.Minute, "2 h 30 min"},
		{36 * time.Hour, "36 h"},
		{14 * 24 * time.Hour, "14 days"},
		{30*24*time.Hour + 12*time.Hour, "30 days 12 h"},
		{14*24*time.Hour - time.Second, "14 days"},  // rounded, not "13 days 23 h"
		{48*time.Hour - time.Second, "2 days"},      // carried into days
		{2*time.Hour - 200*time.Millisecond, "2 h"}, // carried into hours
		{2*time.Hour - 20*time.Second, "119 min 40 s"},
		{90 * time.Second, "90 s"},
		{10 * time.Minute, "10 min"},
		{time.Second, "1 s"},
		{time.Millisecond, "1 s"},
		{0, "0 s"},
		{-time.Hour, "0 s"},
		{math.MaxInt64, "106751 days 23 h"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
