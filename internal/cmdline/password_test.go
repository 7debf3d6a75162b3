package cmdline

import (
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"pass show cryosparc", []string{"pass", "show", "cryosparc"}, false},
		{"secret-tool lookup service 'cryo sparc'", []string{"secret-tool", "lookup", "service", "cryo sparc"}, false},
		{`vault kv get -field=password "secret/cryo \"x\""`, []string{"vault", "kv", "get", "-field=password", `secret/cryo "x"`}, false},
		{`a\ b c`, []string{"a b", "c"}, false},
		{"  ", nil, false},
		{"'open", nil, true},
		{`"open`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if (err != nil) != tt.bad || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitWords(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// FuzzSplitWords: any input splits without a panic; plain ASCII without
// quotes or backslashes splits as strings.Fields does.
func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{"pass show cryosparc", `a 'b c' "d \"e\""`, `x\ y`, "'", `"`, "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := splitWords(s)
		for _, c := range []byte(s) {
			if c == '\'' || c == '"' || c == '\\' || c > '~' || c < ' ' && c != '\t' && c != '\n' {
				return
			}
		}
		if err != nil || strings.Join(got, "\x00") != strings.Join(strings.Fields(s), "\x00") {
			t.Errorf("splitWords(%q) = %q, %v; want %q", s, got, err, strings.Fields(s))
		}
	})
}
