package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of objects and arrays that
// cryosparc-tools' JSON parser accepts.
const maxDepth = 201

// truncatedJSON reports whether data is the beginning of a JSON document
// that ends too soon: inside a value, or with objects or arrays still open.
// Only files that failed to parse get here.
func truncatedJSON(data []byte) bool {
	if !startsObject(data) {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		t, err := d.Token()
		if err == io.EOF {
			return depth > 0
		}
		if err != nil {
			return errors.Is(err, io.ErrUnexpectedEOF)
		}
		if delim, ok := t.(json.Delim); ok {
			if delim == '{' || delim == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
}

func startsObject(data []byte) bool {
	d := bytes.TrimLeft(data, " \t\r\n")
	return len(d) > 0 && d[0] == '{'
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// object reads a JSON object, calling member for each key with the position
// at the start of its value.
func (p *parser) object(member func(keyPos int, key string) error) error {
	return p.container('}', "an object", func() error {
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
func (p *parser) container(closing byte, what string, member func() error) error {
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
func (p *parser) skipValue() error {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return p.fail("unexpected end of file, expected a value")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(func(int, string) error { return p.skipValue() })
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
func (p *parser) number() error {
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

func (p *parser) strSlow(start int) (string, error) {
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
