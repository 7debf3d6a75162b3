// Package text makes values read from files, requests and the command line
// safe to show in a one-line message on a terminal.
package text

import (
	"math"
	"strconv"
	"strings"
	"time"
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
		if !Printable(r) {
			return false
		}
	}
	return true
}

// Printable is the one rule for what a message shows as it is: a rune
// that is printable (unicode.IsPrint) or a space, and not U+FFFD, which
// ranging over invalid UTF-8 gives. Everything else is shown escaped.
func Printable(r rune) bool {
	return r != utf8.RuneError && (unicode.IsPrint(r) || r == ' ')
}

// URL returns raw, a URL or what was typed as one, as a message may show
// it without a secret. Whatever comes after the scheme and before the last
// '@' is shown as "***": a user name and password could be there whatever
// characters they hold ('/', '?', '#', '@' included), so a path or query
// that holds an '@' is masked too. The scheme is kept when it is spelt as
// one (http: or https: with any number of slashes, another scheme with two
// or more, or leading slashes alone); anything else before the '@' is
// masked. A query or fragment is left out ("…"), and what remains is made
// safe as Safe does, and quoted also when it is empty or holds a space,
// so that a URL shown bare is always one word.
func URL(raw string) string {
	prefix := schemePrefix(raw)
	rest := raw[len(prefix):]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = "***" + rest[at:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "…"
	}
	s := prefix + rest
	if s == "" || strings.ContainsRune(s, ' ') {
		return Quote(s)
	}
	return Safe(s)
}

// schemePrefix returns the scheme and slashes raw starts with, when they are
// spelt as a scheme: "https://", "HTTP:/", "https:", "ftp://", "//"; else "".
func schemePrefix(raw string) string {
	i := 0
	for i < len(raw) && (isLetter(raw[i]) || i > 0 && (raw[i] >= '0' && raw[i] <= '9' || raw[i] == '+' || raw[i] == '-' || raw[i] == '.')) {
		i++
	}
	scheme := raw[:i]
	if i > 0 {
		if i == len(raw) || raw[i] != ':' {
			return "" // no scheme: a host, or a user name
		}
		i++
	}
	j := i
	for j < len(raw) && raw[j] == '/' {
		j++
	}
	switch {
	case scheme == "" && j > 0, // //host, a scheme-relative URL
		j-i >= 2, // scheme://
		strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"):
		return raw[:j]
	}
	return ""
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// Duration writes d as every message writes a length of time: in days when
// it is at least two days, else in hours (h) from two hours, minutes (min)
// from two minutes, else seconds (s); with the next smaller unit after it
// when that is not zero once rounded to it: "14 days", "36 h", "2 h",
// "2 h 30 min", "90 s". A positive d under a second is "1 s"; zero or
// less is "0 s".
func Duration(d time.Duration) string {
	type unit struct {
		size, from time.Duration
		name       string
	}
	units := []unit{
		{24 * time.Hour, 48 * time.Hour, " days"},
		{time.Hour, 2 * time.Hour, " h"},
		{time.Minute, 2 * time.Minute, " min"},
		{time.Second, 0, " s"},
	}
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return "1 s"
	}
	// Rounding to the smaller unit may carry into a larger one (47 h 59
	// min 59 s is 2 days): choose again after it.
	for range 2 {
		for i, u := range units {
			if d < u.from {
				continue
			}
			small := units[min(i+1, len(units)-1)].size
			if d > math.MaxInt64-small {
				d = math.MaxInt64 / small * small
			} else {
				d = (d + small/2) / small * small
			}
			if i > 0 && d >= units[i-1].from {
				break // carried: choose again
			}
			s := strconv.FormatInt(int64(d/u.size), 10) + u.name
			if rest := d % u.size / small; rest > 0 && small != u.size {
				s += " " + strconv.FormatInt(int64(rest), 10) + units[i+1].name
			}
			return s
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " s"
}
