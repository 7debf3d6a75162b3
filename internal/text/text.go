// Package text makes values read from files, requests and the command line
// safe to show in a one-line message on a terminal.
package text

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxShown is the most bytes of one value a message shows.
const MaxShown = 200

// Safe returns s as it can be shown on a terminal: unchanged when it is
// valid UTF-8 of printable characters, otherwise quoted with Go's escapes
// (so that no control character or escape sequence reaches the terminal),
// and cut to about MaxShown bytes, ending in "…".
func Safe(s string) string {
	cut := false
	if len(s) > MaxShown {
		i := MaxShown
		for i > MaxShown-utf8.UTFMax && !utf8.RuneStart(s[i]) {
			i-- // not in the middle of a character
		}
		s, cut = s[:i], true
	}
	if printable(s) {
		if cut {
			return s + "…"
		}
		return s
	}
	q := strconv.Quote(s)
	if cut {
		q = strings.TrimSuffix(q, `"`) + `…"`
	}
	return q
}

// Quote returns s in double quotes with Go's escapes, cut as Safe cuts.
func Quote(s string) string {
	if len(s) > MaxShown {
		return strings.TrimSuffix(strconv.Quote(s[:MaxShown]), `"`) + `…"`
	}
	return strconv.Quote(s)
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}
