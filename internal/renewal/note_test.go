package renewal

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseRenewNote(t *testing.T) {
	entry := `{"state":"refused","url":"https://cs.example.com","email":"a@x","at":"2026-01-02T03:04:05Z","host":"n1","pid":7}`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"one entry", `{"version":1,"entries":[` + entry + `]}`, true},
		{"none", `{"version":1,"entries":[]}`, true},
		{"version 2", `{"version":2,"entries":[]}`, false},
		{"unknown field", `{"version":1,"entries":[],"password":"x"}`, false},
		{"unknown entry field", `{"version":1,"entries":[` + strings.Replace(entry, `"pid"`, `"token":"t","pid"`, 1) + `]}`, false},
		{"trailing data", `{"version":1,"entries":[]} {}`, false},
		{"unknown state", `{"version":1,"entries":[` + strings.Replace(entry, "refused", "maybe", 1) + `]}`, false},
		{"url not canonical", `{"version":1,"entries":[` + strings.Replace(entry, "cs.example.com", "CS.example.com/", 1) + `]}`, false},
		{"email with a line break", `{"version":1,"entries":[` + strings.Replace(entry, "a@x", `a@x\n`, 1) + `]}`, false},
		{"no time", `{"version":1,"entries":[` + strings.Replace(entry, "2026-01-02T03:04:05Z", "", 1) + `]}`, false},
		{"negative pid", `{"version":1,"entries":[` + strings.Replace(entry, `"pid":7`, `"pid":-7`, 1) + `]}`, false},
		{"not JSON", "refused a@x", false},
		{"too many", `{"version":1,"entries":[` + strings.Repeat(entry+",", maxNoteEntries) + entry + `]}`, false},
		{"too large", strings.Repeat(" ", maxNoteSize+1), false},
	}
	for _, tt := range tests {
		if _, err := parseNote([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// FuzzParseRenewNote: any input parses or is refused without a panic; what
// is accepted is written back and read again the same.
func FuzzParseRenewNote(f *testing.F) {
	f.Add([]byte(`{"version":1,"entries":[{"state":"renewed","url":"https://cs.example.com","email":"a@x","at":"2026-01-02T03:04:05.5Z","host":"n1","pid":7}]}`))
	f.Add([]byte(`{"version":1,"entries":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseNote(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := parseNote(again)
		if err != nil || len(n2.Entries) != len(n.Entries) {
			t.Fatalf("accepted %q, but not its own rewrite %q: %v", data, again, err)
		}
		for i := range n.Entries {
			if n.Entries[i] != n2.Entries[i] {
				t.Fatalf("entry %d changed: %+v → %+v", i, n.Entries[i], n2.Entries[i])
			}
		}
	})
}
