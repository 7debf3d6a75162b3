package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

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
