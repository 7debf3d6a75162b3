package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// maxDepth is the deepest nesting of objects and arrays that
// cryosparc-tools' JSON parser accepts.
const maxDepth = 201

// Problem is one reason the file is not what cryosparc-tools accepts.
type Problem struct {
	Line, Column int    // 1-based position in the file
	Instance     string // instance URL, when the problem is inside one
	Email        string // email, when the problem is inside a session
	Reason       string
	Syntax       bool // the file is not valid JSON; nothing in it can be used
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	switch {
	case p.Email != "":
		fmt.Fprintf(&b, "session %s of instance %s: ", text.Quote(p.Email), text.Quote(p.Instance))
	case p.Instance != "":
		fmt.Fprintf(&b, "instance %s: ", text.Quote(p.Instance))
	}
	b.WriteString(p.Reason)
	return b.String()
}

// InvalidError reports a session file that cryosparc-tools would reject as a
// whole. Problems lists every reason found, in file order.
type InvalidError struct {
	Path     string
	Problems []Problem
	// foreign: nothing in the file has the shape of a session, so it is
	// probably not a session file at all (another program's file given by
	// mistake).
	foreign bool
	// cut: the file is the beginning of a JSON document that ends too soon,
	// as a file being written is.
	cut bool
}

// ErrInvalid is matched by every *InvalidError.
var ErrInvalid = errors.New("invalid session file")

func (e *InvalidError) Error() string {
	name := text.Safe(e.Path)
	if name == "" {
		name = "session file"
	}
	if e.foreign {
		return fmt.Sprintf("%s does not look like a cryosparc-tools session file (%s); check --file and CRYOSPARC_AUTH_FILE", name, e.Problems[0])
	}
	msg := fmt.Sprintf("%s is not a valid cryosparc-tools session file: %s", name, e.Problems[0])
	if n := len(e.Problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid || target == errkind.File }

// Syntax reports whether the file is not JSON at all, so that nothing in it
// can be used.
func (e *InvalidError) Syntax() bool {
	return len(e.Problems) > 0 && e.Problems[0].Syntax
}

// Foreign reports whether nothing in the file has the shape of a session:
// it is not JSON and not the beginning of a JSON object, or it is an
// object none of whose entries looks like an instance's sessions. Such a
// file is never changed and nothing is created beside it.
func (e *InvalidError) Foreign() bool { return e.foreign }

// Truncated reports whether the file is valid JSON cut short: what a
// reader sees while cryosparc-tools is rewriting the file in place.
func (e *InvalidError) Truncated() bool { return e.cut }

type syntaxError struct {
	pos    int
	reason string
}

func (e *syntaxError) Error() string { return e.reason }

// parser reads the session file in one pass. Strings without escapes are
// not copied: they point into data, which must not change afterwards.
type parser struct {
	// keep, when not nil, says which instances to keep: the others are
	// checked but not kept, for a lookup that cannot need them.
	keep     func(url string) bool
	data     []byte
	all      []Session // every session read, in file order; instances hold parts of it
	pos      int
	depth    int
	now      int64 // Unix microseconds
	problems []Problem
	shaped   int      // sessions seen with a "token" or "expires" key, valid or not
	emails   keyIndex // reused by settle for each instance
}

// Parse reads the bytes of a session file as cryosparc-tools does, dropping
// sessions that expired at or before now. When the file holds anything that
// cryosparc-tools would reject, Parse returns the valid part together with an
// *InvalidError; when it is not JSON at all, the valid part is empty. The
// result shares nothing with data.
func Parse(data []byte, now time.Time) (*Sessions, error) {
	s, err := parse(data, now, nil)
	if s != nil {
		s.detach()
	}
	return s, err
}

func parse(data []byte, now time.Time, keep func(url string) bool) (*Sessions, error) {
	size := len(data)/200 + 1 // an indented session takes about 250 bytes
	if keep != nil {
		size = 16
	}
	p := &parser{data: data, now: now.UnixMicro(), keep: keep, all: make([]Session, 0, size)}
	// The canonical reader checks UTF-8 in strings as it goes (elsewhere it
	// accepts only its ASCII layout); the general parser relies on this.
	if s, ok := p.canonical(); ok {
		return s, nil
	}
	if !utf8.Valid(data) {
		p.pos = invalidUTF8At(data)
		line, col := p.lineCol(p.pos)
		cut := truncatedJSON(data)
		return &Sessions{}, &InvalidError{Problems: []Problem{{Line: line, Column: col, Reason: "invalid UTF-8", Syntax: true}},
			cut: cut, foreign: !cut}
	}
	*p = parser{data: data, now: p.now, keep: keep, all: p.all[:0]}
	s, err := p.file()
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			return nil, err
		}
		line, col := p.lineCol(se.pos)
		cut := se.pos >= len(data) && startsObject(data) || truncatedJSON(data)
		return &Sessions{}, &InvalidError{Problems: []Problem{{Line: line, Column: col, Reason: se.reason, Syntax: true}},
			cut: cut, foreign: !cut && p.shaped == 0}
	}
	if len(p.problems) > 0 {
		return s, &InvalidError{Problems: p.problems, foreign: p.shaped == 0}
	}
	return s, nil
}

func (p *parser) lineCol(pos int) (line, col int) {
	if pos > len(p.data) {
		pos = len(p.data)
	}
	before := p.data[:pos]
	line = bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[start:]) + 1
	return line, col
}

func (p *parser) fail(reason string) error {
	return &syntaxError{pos: p.pos, reason: reason}
}

func (p *parser) problem(pos int, instance, email, reason string) {
	line, col := p.lineCol(pos)
	// Copies: the problem may outlive the bytes the strings point into.
	p.problems = append(p.problems, Problem{Line: line, Column: col, Instance: strings.Clone(instance), Email: strings.Clone(email), Reason: reason})
}

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

// file reads any JSON, reporting every problem.
func (p *parser) file() (*Sessions, error) {
	s := &Sessions{}
	p.skipSpace()
	if p.pos == len(p.data) {
		return nil, p.fail("the file is empty or blank, not a JSON object")
	}
	if p.data[p.pos] != '{' {
		start := p.pos
		if err := p.skipValue(); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos != len(p.data) {
			return nil, p.fail("unexpected data after the top-level value")
		}
		p.pos = start
		return nil, p.fail("the top level is not a JSON object of instances")
	}
	var index keyIndex
	err := p.object(func(_ int, url string) error {
		inst, ok, err := p.instance(url)
		if err == nil && ok {
			s.add(&index, inst)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.fail("unexpected data after the top-level object")
	}
	return s, nil
}

// add appends an instance read from the file; a URL read before keeps its
// place and takes the new sessions.
func (s *Sessions) add(index *keyIndex, inst instance) {
	urlAt := func(i int) string { return s.instances[i].url }
	if i, dup := index.find(len(s.instances), inst.url, urlAt); dup {
		s.instances[i].sessions = inst.sessions
		return
	}
	s.instances = append(s.instances, inst)
	index.add(len(s.instances), inst.url, urlAt)
}

// keyIndex finds keys among the members of an object read so far, by
// scanning while there are few and through a map once there are many.
type keyIndex struct {
	m  map[string]int
	on bool // m is in use; it is kept (cleared) for the next object
}

// reset readies x for another object, keeping its map's room.
func (x *keyIndex) reset() { x.on = false }

const indexAbove = 16

func (x *keyIndex) find(n int, key string, keyAt func(int) string) (int, bool) {
	if x.on {
		i, ok := x.m[key]
		return i, ok
	}
	for i := 0; i < n; i++ {
		if keyAt(i) == key {
			return i, true
		}
	}
	return 0, false
}

// add records that member n-1 has key.
func (x *keyIndex) add(n int, key string, keyAt func(int) string) {
	switch {
	case x.on:
		x.m[key] = n - 1
	case n > indexAbove:
		if x.m == nil {
			x.m = make(map[string]int, 2*n)
		} else {
			clear(x.m)
		}
		for i := 0; i < n; i++ {
			x.m[keyAt(i)] = i
		}
		x.on = true
	}
}

// instance reads one instance's object of sessions. ok is false when the
// value is not an object of valid sessions (the problem is recorded).
func (p *parser) instance(url string) (inst instance, ok bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		pos := p.pos
		if err := p.skipValue(); err != nil {
			return inst, false, err
		}
		p.problem(pos, url, "", "the value is not an object of sessions by email")
		return inst, false, nil
	}
	if strings.Contains(url, "://") {
		p.shaped++ // an instance key, even with no session left
	}
	inst.url = url
	kept := p.keep == nil || p.keep(url)
	start := len(p.all)
	err = p.object(func(_ int, email string) error {
		sess, good, err := p.session(url, email)
		if err == nil && good && kept {
			p.all = append(p.all, sess)
		}
		return err
	})
	// The capacity ends with the instance, so that appending to it never
	// writes over the next instance's sessions.
	end := len(p.all)
	inst.sessions = settle(p.all[start:end:end], p.now, &p.emails)
	return inst, kept, err
}

// session reads one session object. good is false when cryosparc-tools would
// reject it (the problem is recorded).
func (p *parser) session(url, email string) (s Session, good bool, err error) {
	p.skipSpace()
	start := p.pos
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		if err := p.skipValue(); err != nil {
			return s, false, err
		}
		p.problem(start, url, email, "the session is not an object with token and expires")
		return s, false, nil
	}
	var (
		tokPos, expPos    = -1, -1
		token, tokenType  string
		tokReason, expErr string
		expires           Expiry
	)
	err = p.object(func(keyPos int, key string) error {
		p.skipSpace()
		if key == "token" || key == "expires" {
			if tokPos < 0 && expPos < 0 {
				p.shaped++
			}
		}
		switch key {
		case "token":
			tokPos = p.pos
			var err error
			token, tokenType, tokReason, err = p.token()
			return err
		case "expires":
			expPos = p.pos
			var err error
			expires, expErr, err = p.expires()
			return err
		}
		return p.skipValue()
	})
	if err != nil {
		return s, false, err
	}
	switch {
	case tokPos < 0:
		p.problem(start, url, email, `the session has no "token"`)
	case tokReason != "":
		p.problem(tokPos, url, email, tokReason)
	case tokenType != "bearer":
		p.problem(tokPos, url, email, fmt.Sprintf(`token_type is %q; it must be "bearer"`, tokenType))
	case expPos < 0:
		p.problem(start, url, email, `the session has no "expires"`)
	case expErr != "":
		p.problem(expPos, url, email, expErr)
	default:
		s = Session{URL: url, Email: email, Token: token, Expires: expires}
		return s, true, nil
	}
	return s, false, nil
}

// token reads {"access_token": string, "token_type": string}; reason is
// non-empty when cryosparc-tools would reject it.
func (p *parser) token() (token, tokenType, reason string, err error) {
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		if err := p.skipValue(); err != nil {
			return "", "", "", err
		}
		return "", "", `"token" is not an object with access_token and token_type`, nil
	}
	haveTok, haveType := false, false
	tokStr, typeStr := true, true
	err = p.object(func(keyPos int, key string) error {
		p.skipSpace()
		switch key {
		case "access_token", "token_type":
			isStr := p.pos < len(p.data) && p.data[p.pos] == '"'
			var v string
			if isStr {
				var err error
				if v, err = p.str(); err != nil {
					return err
				}
			} else if err := p.skipValue(); err != nil {
				return err
			}
			if key == "access_token" {
				haveTok, tokStr, token = true, isStr, v
			} else {
				haveType, typeStr, tokenType = true, isStr, v
			}
			return nil
		}
		return p.skipValue()
	})
	switch {
	case err != nil:
	case !haveTok:
		reason = `the token has no "access_token"`
	case !tokStr:
		reason = `access_token is not a string`
	case !haveType:
		reason = `the token has no "token_type"`
	case !typeStr:
		reason = `token_type is not a string`
	}
	return token, tokenType, reason, err
}

// expires reads an expiry value; reason is non-empty when it is invalid.
func (p *parser) expires() (e Expiry, reason string, err error) {
	start := p.pos
	if p.pos < len(p.data) && p.data[p.pos] == '"' {
		s, err := p.str()
		if err != nil {
			return e, "", err
		}
		if e, perr := ParseExpiry(s); perr == nil {
			return e, "", nil
		}
		return e, fmt.Sprintf("expires %q is not a date-time with a zone (RFC 3339, e.g. 2025-01-31T12:00:00Z) or Unix seconds", s), nil
	}
	if err := p.skipValue(); err != nil {
		return e, "", err
	}
	raw := string(p.data[start:p.pos])
	if c := p.data[start]; c == '-' || c >= '0' && c <= '9' {
		if e, perr := parseExpiryNumber(raw); perr == nil {
			return e, "", nil
		}
		return e, fmt.Sprintf("expires %s is out of range for a Unix timestamp", raw), nil
	}
	return e, fmt.Sprintf("expires %s is not a date-time", truncate(raw, 40)), nil
}

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
