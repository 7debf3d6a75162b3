package authjson

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// TestSpecials checks the word-at-a-time scan for string ends against a
// byte-by-byte one, on every byte value at every position.
func TestSpecials(t *testing.T) {
	isSpecial := func(b byte) bool { return b == '"' || b == '\\' || b < 0x20 || b >= 0x80 }
	for pos := 0; pos < 8; pos++ {
		for v := 0; v < 256; v++ {
			for _, fill := range []byte{'a', 0x7f, 0xff, ' ', '!'} {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(v)
				m := specials(binary.LittleEndian.Uint64(w[:]))
				first := -1
				for i, b := range w {
					if isSpecial(b) {
						first = i
						break
					}
				}
				switch {
				case first < 0 && m != 0:
					t.Fatalf("%q: marks %x, but nothing is special", w, m)
				case first >= 0 && (m == 0 || bits.TrailingZeros64(m)/8 != first):
					t.Fatalf("%q: first special at %d, marks %x", w, first, m)
				}
			}
		}
	}
}
