package authjson

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file is the one place of the package that uses unsafe: a string
// without escapes is returned as a view of the bytes read (view), not a
// copy. Measured through the built binary (docs/performance.md, "mmap and
// zero-copy strings"): copying every string read makes get of the last of
// 10,000 sessions 15% slower with 20% more page faults.

// maxDepth is the deepest nesting of objects and arrays that
// cryosparc-tools' JSON parser accepts.
const maxDepth = 201

// scanner reads JSON tokens from data at pos: space, strings, numbers,
// whole values skipped, objects and arrays member by member. Strings
// without escapes are not copied: they point into data, which must not
// change afterwards.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

// syntaxError is where and why the bytes are not JSON.
type syntaxError struct {
	pos    int
	reason string
}

func (e *syntaxError) Error() string { return e.reason }

func (p *scanner) fail(reason string) *syntaxError {
	return &syntaxError{pos: p.pos, reason: reason}
}

// view returns data[start:end] as a string sharing its bytes.
func (p *scanner) view(start, end int) string {
	if start == end {
		return ""
	}
	return unsafe.String(&p.data[start], end-start)
}

// expect consumes lit if the bytes at pos are lit.
func (p *scanner) expect(lit string) bool {
	if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		p.pos += len(lit)
		return true
	}
	return false
}

// skipSpace skips JSON whitespace. The file is indented with runs of
// spaces, which are skipped eight at a time.
func (p *scanner) skipSpace() {
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
func (p *scanner) str() (string, *syntaxError) {
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
		return p.view(start, i), nil
	}
	return p.strRest(start, i)
}

// strRest finishes reading a string from i, checking any text that is not
// ASCII as UTF-8 (the file as a whole is checked only when the canonical
// reader gives up).
func (p *scanner) strRest(start, i int) (string, *syntaxError) {
	d := p.data
	ascii := true
	for ; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if !ascii && !utf8.Valid(d[start:i]) {
				p.pos = start + invalidUTF8At(d[start:i])
				return "", p.fail("invalid UTF-8")
			}
			return p.view(start, i), nil
		case c == '\\' || c < 0x20:
			return p.strSlow(start)
		case c >= 0x80:
			ascii = false
		}
	}
	p.pos = len(d)
	return "", p.fail("unterminated string")
}

func (p *scanner) strSlow(start int) (string, *syntaxError) {
	d := p.data
	buf := make([]byte, 0, 64)
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if !utf8.Valid(buf) {
				p.pos = start
				return "", p.fail("invalid UTF-8")
			}
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(d) {
			break
		}
		i++
		switch d[i] {
		case '"', '\\', '/':
			buf = append(buf, d[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d[i+1:])
			if !ok {
				p.pos = i
				return "", p.fail(`invalid \u escape`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if r < 0xdc00 && i+6 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
					r2, ok = hex4(d[i+3:])
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok || dec == utf8.RuneError {
					p.pos = i
					return "", p.fail("lone UTF-16 surrogate in a string")
				}
				r = dec
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos = i
			return "", p.fail("invalid escape in a string")
		}
		i++
	}
	p.pos = len(d)
	return "", p.fail("unterminated string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil || b[0] == '+' || b[0] == '-' {
		return 0, false
	}
	return rune(v), true
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// object reads a JSON object, calling member for each key with the position
// at the start of its value.
func (p *scanner) object(member func(keyPos int, key string) *syntaxError) *syntaxError {
	return p.container('}', "an object", func() *syntaxError {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail("expected a string key")
		}
		keyPos := p.pos
		key, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.fail(`expected ":" after a key`)
		}
		p.pos++
		return member(keyPos, key)
	})
}

// container reads an object or array whose opening byte is at p.pos,
// calling member for each member until the closing byte.
func (p *scanner) container(closing byte, what string, member func() *syntaxError) *syntaxError {
	p.depth++
	if p.depth > maxDepth {
		return p.fail("nested too deeply")
	}
	p.pos++ // the opening byte
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == closing {
		p.pos++
		p.depth--
		return nil
	}
	for {
		if err := member(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of file inside " + what)
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case closing:
			p.pos++
			p.depth--
			return nil
		default:
			return p.fail(`expected "," or "` + string(closing) + `"`)
		}
	}
}

// skipValue reads and discards any JSON value.
func (p *scanner) skipValue() *syntaxError {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return p.fail("unexpected end of file, expected a value")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(func(int, string) *syntaxError { return p.skipValue() })
	case c == '[':
		return p.container(']', "an array", p.skipValue)
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity"} {
			if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				return nil
			}
		}
		return p.fail("invalid value")
	}
}

// number reads a JSON number (and -Infinity, which cryosparc-tools' parser
// accepts).
func (p *scanner) number() *syntaxError {
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
		if bytes.HasPrefix(d[i:], []byte("Infinity")) {
			p.pos = i + len("Infinity")
			return nil
		}
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return p.fail("invalid number")
	}
	// digits skips one or more digits.
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return p.fail("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return p.fail("invalid number")
		}
	}
	p.pos = i
	return nil
}
