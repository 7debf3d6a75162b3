package authjson

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func addGoldenSeeds(f *testing.F) {
	// store's golden files: inputs, and outputs in the canonical layout.
	inputs, _ := filepath.Glob("../../store/testdata/golden/*.json")
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
}

// FuzzRead checks that Read never panics, that a valid file writes out as
// something that reads back to the same bytes, that the canonical reader
// agrees with the general parser, and that a file cut short is seen as
// such: store's FuzzParse on the parser alone, without store's conversion.
func FuzzRead(f *testing.F) {
	addGoldenSeeds(f)
	for _, s := range []string{"", "{}", "[]", `{"u": {}}`, `{"u": {"e": 5}}`, `{"u":{"e":{"token":{"access_token":"a","token_type":"bearer"},"expires":1e400}}}`, "{\"\\ud800\":{}}", `{"a":` + strings.Repeat("[", 250)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Read(data, fixedNow, nil)
		if len(s.Problems) > 0 && s.Problems[0].Syntax && len(s.Instances) > 0 {
			t.Fatalf("a syntax error with sessions: %+v", s)
		}
		if c, ok := ReadCanonical(data, fixedNow, nil); ok {
			// The fast path must agree with the general parser.
			g := ReadGeneral(data, fixedNow, nil)
			if len(g.Problems) > 0 {
				t.Fatalf("canonical layout accepted what the general parser rejects: %v", g.Problems[0])
			}
			if string(Marshal(c.Instances)) != string(Marshal(g.Instances)) {
				t.Fatalf("canonical and general parsers differ:\n%s\n---\n%s", Marshal(c.Instances), Marshal(g.Instances))
			}
		}
		out := Marshal(s.Instances)
		if _, ok := ReadCanonical(out, fixedNow, nil); !ok {
			t.Fatalf("what Marshal writes does not take the fast path:\n%s", out)
		}
		s2 := Read(out, fixedNow, nil)
		if len(s2.Problems) > 0 {
			t.Fatalf("Marshal wrote a file that does not parse: %v\n%s", s2.Problems[0], out)
		}
		if out2 := Marshal(s2.Instances); string(out2) != string(out) {
			t.Fatalf("Marshal is not stable:\n%s\n---\n%s", out, out2)
		}
		// A file caught half written is seen as such, never as a whole
		// file or as one that is not a session file.
		for _, k := range []int{len(out) / 2, len(out) - 1} {
			r := Read(out[:k], fixedNow, nil)
			if k > 0 && (len(r.Problems) == 0 || !r.Cut || r.Foreign) {
				t.Fatalf("the first %d bytes of a file are not seen as a write in progress: %+v\n%s", k, r.Problems, out[:k])
			}
		}
	})
}
