package authjson

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

// parser is the general parser: it reads any JSON in one pass, reporting
// every problem that makes cryosparc-tools reject the file.
type parser struct {
	scanner
	// keep, when not nil, says which instances to keep: the others are
	// checked but not kept, for a lookup that cannot need them.
	keep     func(url string) bool
	all      []Session // every session read, in file order; instances hold parts of it
	now      int64     // Unix microseconds
	problems []Problem
	shaped   int      // sessions seen with a "token" or "expires" key, valid or not
	emails   keyIndex // reused by settle for each instance
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

func (p *parser) problem(pos int, instance, email, reason string) {
	line, col := p.lineCol(pos)
	// Copies: the problem may outlive the bytes the strings point into.
	p.problems = append(p.problems, Problem{Line: line, Column: col, Instance: strings.Clone(instance), Email: strings.Clone(email), Reason: reason})
}

// file reads any JSON, reporting every problem.
func (p *parser) file() ([]Instance, *syntaxError) {
	var list []Instance
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
	err := p.object(func(_ int, url string) *syntaxError {
		inst, ok, err := p.instance(url)
		if err == nil && ok {
			list = addInstance(list, &index, inst)
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
	return list, nil
}

// instance reads one instance's object of sessions. ok is false when the
// value is not an object of valid sessions (the problem is recorded).
func (p *parser) instance(url string) (inst Instance, ok bool, err *syntaxError) {
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
	inst.URL = url
	kept := p.keep == nil || p.keep(url)
	start := len(p.all)
	err = p.object(func(_ int, email string) *syntaxError {
		sess, good, err := p.session(url, email)
		if err == nil && good && kept {
			p.all = append(p.all, sess)
		}
		return err
	})
	// The capacity ends with the instance, so that appending to it never
	// writes over the next instance's sessions.
	end := len(p.all)
	inst.Sessions = settle(p.all[start:end:end], p.now, &p.emails)
	return inst, kept, err
}

// session reads one session object. good is false when cryosparc-tools would
// reject it (the problem is recorded).
func (p *parser) session(url, email string) (s Session, good bool, err *syntaxError) {
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
		expires           expiry.Expiry
	)
	err = p.object(func(keyPos int, key string) *syntaxError {
		p.skipSpace()
		if key == "token" || key == "expires" {
			if tokPos < 0 && expPos < 0 {
				p.shaped++
			}
		}
		switch key {
		case "token":
			tokPos = p.pos
			var err *syntaxError
			token, tokenType, tokReason, err = p.token()
			return err
		case "expires":
			expPos = p.pos
			var err *syntaxError
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
func (p *parser) token() (token, tokenType, reason string, err *syntaxError) {
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		if err := p.skipValue(); err != nil {
			return "", "", "", err
		}
		return "", "", `"token" is not an object with access_token and token_type`, nil
	}
	haveTok, haveType := false, false
	tokStr, typeStr := true, true
	err = p.object(func(keyPos int, key string) *syntaxError {
		p.skipSpace()
		switch key {
		case "access_token", "token_type":
			isStr := p.pos < len(p.data) && p.data[p.pos] == '"'
			var v string
			if isStr {
				var err *syntaxError
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
func (p *parser) expires() (e expiry.Expiry, reason string, err *syntaxError) {
	start := p.pos
	if p.pos < len(p.data) && p.data[p.pos] == '"' {
		s, err := p.str()
		if err != nil {
			return e, "", err
		}
		if e, perr := expiry.Parse(s); perr == nil {
			return e, "", nil
		}
		return e, fmt.Sprintf("expires %q is not a date-time with a zone (RFC 3339, e.g. 2025-01-31T12:00:00Z) or Unix seconds", s), nil
	}
	if err := p.skipValue(); err != nil {
		return e, "", err
	}
	raw := string(p.data[start:p.pos])
	if c := p.data[start]; c == '-' || c >= '0' && c <= '9' {
		if e, perr := expiry.ParseNumber(raw); perr == nil {
			return e, "", nil
		}
		return e, fmt.Sprintf("expires %s is out of range for a Unix timestamp", raw), nil
	}
	return e, fmt.Sprintf("expires %s is not a date-time", truncate(raw, 40)), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
