package sessiongen_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// TestSessionFile: what the generator writes is what store.Marshal writes
// for the same sessions, and holds each of them.
func TestSessionFile(t *testing.T) {
	exp := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct{ n, instances int }{{0, 1}, {1, 1}, {7, 3}, {250, 100}, {1000, 1}} {
		data := sessiongen.SessionFile(tt.n, tt.instances, exp)
		s, err := store.Parse(data, exp.Add(-time.Hour))
		if err != nil {
			t.Fatalf("%d/%d: %v", tt.n, tt.instances, err)
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Errorf("%d/%d: not in cryosparc-tools' layout:\n%s", tt.n, tt.instances, data)
		}
		if s.Len() != tt.n {
			t.Errorf("%d/%d: %d sessions", tt.n, tt.instances, s.Len())
		}
		for i := 0; i < tt.n; i++ {
			url, email, token := sessiongen.Credential(i, tt.instances)
			if got, ok := s.Find(url, email); !ok || got.Token != token {
				t.Fatalf("%d/%d: session %d not found", tt.n, tt.instances, i)
			}
		}
	}
}
