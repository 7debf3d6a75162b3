package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// TestBadURLMessages: a URL holding a user name or password, however odd
// its userinfo or its scheme's spelling, is refused as bad input (exit 2)
// and its error shows neither the password nor the user name, nor a query,
// nor an escape sequence.
func TestBadURLMessages(t *testing.T) {
	tests := []struct {
		name, in   string
		shown      string // what the message shows of the URL
		reasonWord string
	}{
		{"plain userinfo", "https://alice:SECRET@h", "https://***@h", "'@'"},
		{"password with /", "https://alice:se/SECRET@h", "https://***@h", "'@'"},
		{"password with ?", "https://alice:se?SECRET@h", "https://***@h", "'@'"},
		{"password with #", "https://alice:se#SECRET@h", "https://***@h", "'@'"},
		{"password with @ and /", "https://alice:p@ss/SECRET@h", "https://***@h", "'@'"},
		{"one slash", "https:/alice:SECRET@h", "http://***@h", "'@'"}, // http:// added: it has no "://"
		{"three slashes", "https:///alice:SECRET@h", "https:///***@h", "'@'"},
		{"no scheme", "alice:SECRET@h", "http://***@h", "'@'"},
		{"no scheme, password with /", "alice:se/SECRET@h:39000", "http://***@h:39000", "'@'"},
		{"userinfo and a bad port", "https://alice:SECRET@h:99999", "https://***@h:99999", "'@'"},
		{"userinfo and a space", "https://alice:SECRET@h x", `"https://***@h x"`, "'@'"},
		{"userinfo and an escape", "https://alice:SECRET\x1b[2J@h", "https://***@h", "'@'"},
		{"query", "https://h/?token=SECRET", "https://h/…", "query"},
		{"escape in the host", "https://h\x1b]0;TITLE\x07", `"https://h\x1b]0;TITLE\a"`, "parse"},
		{"one slash, no userinfo", "https:/h", "http://https:/h", "misspelt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CanonicalURL(WithScheme(tt.in))
			if !errors.Is(err, ErrBadURL) || errkind.Of(err) != errkind.BadInput {
				t.Fatalf("error = %v, want ErrBadURL of kind BadInput", err)
			}
			msg := err.Error()
			want := "instance URL " + tt.shown + " is not usable: "
			if !strings.HasPrefix(msg, want) || !strings.Contains(msg, tt.reasonWord) {
				t.Errorf("message %q, want it to start %q and say %s", msg, want, tt.reasonWord)
			}
			if strings.Contains(msg, "SECRET") || strings.Contains(msg, "alice") || strings.ContainsAny(msg, "\x1b\x07\n") {
				t.Errorf("message %q shows a secret or a control character", msg)
			}
		})
	}
}

// TestURLWithAtNotStored: a URL with an '@' anywhere (a user name or a
// password that the URL parser would take for a path) is never stored.
func TestURLWithAtNotStored(t *testing.T) {
	s := &Sessions{}
	for _, u := range []string{"http://https:/alice:pw@h", "https://h/alice:pw@x", "https://alice:p/w@h"} {
		if _, err := s.Insert(Session{URL: u, Email: "a", Token: "t"}); !errors.Is(err, ErrBadURL) {
			t.Errorf("Insert(%q) = %v, want ErrBadURL", u, err)
		}
	}
	if len(s.Instances()) != 0 {
		t.Errorf("instances stored: %q", s.Instances())
	}
}
