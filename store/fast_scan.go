package store

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// skipSpace skips JSON whitespace. The file is indented with runs of
// spaces, which are skipped eight at a time.
func (p *parser) skipSpace() {
	d := p.data
	i := p.pos
	for i < len(d) {
		switch d[i] {
		case ' ', '\n', '\t', '\r':
			i++
			for i+8 <= len(d) && binary.LittleEndian.Uint64(d[i:]) == spaces8 {
				i += 8
			}
			continue
		}
		break
	}
	p.pos = i
}

const (
	spaces8 = 0x2020202020202020
	ones8   = 0x0101010101010101
	highs8  = 0x8080808080808080
)

// specials marks, in the high bit of each byte, the bytes of v that are a
// quote, a backslash, a control character (below 0x20) or not ASCII (which
// must then be checked as UTF-8). A byte b is zero,
// or below 0x20, when b - k borrows into its high bit while b's own high
// bit is clear; a borrow can also mark bytes above a marked one, so only
// the lowest mark is sure, and whether any is set.
func specials(v uint64) uint64 {
	quote := v ^ (ones8 * '"')
	backslash := v ^ (ones8 * '\\')
	m := (quote - ones8) &^ quote
	m |= (backslash - ones8) &^ backslash
	m |= (v - ones8*0x20) &^ v
	return (m | v) & highs8
}

// str reads a JSON string at p.pos (which holds '"').
func (p *parser) str() (string, error) {
	d := p.data
	start := p.pos + 1
	i := start
	for i+8 <= len(d) {
		m := specials(binary.LittleEndian.Uint64(d[i:]))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) / 8
		if d[i] != '"' {
			return p.strRest(start, i)
		}
		p.pos = i + 1
		if i == start {
			return "", nil
		}
		return unsafe.String(&d[start], i-start), nil
	}
	return p.strRest(start, i)
}

// strRest finishes reading a string from i, checking any text that is not
// ASCII as UTF-8 (the file as a whole is checked only when the canonical
// reader gives up).
func (p *parser) strRest(start, i int) (string, error) {
	d := p.data
	ascii := true
	for ; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if i == start {
				return "", nil
			}
			if !ascii && !utf8.Valid(d[start:i]) {
				p.pos = start + invalidUTF8At(d[start:i])
				return "", p.fail("invalid UTF-8")
			}
			return unsafe.String(&d[start], i-start), nil
		case c == '\\' || c < 0x20:
			return p.strSlow(start)
		case c >= 0x80:
			ascii = false
		}
	}
	p.pos = len(d)
	return "", p.fail("unterminated string")
}
