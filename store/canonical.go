package store

import "bytes"

// The layout cryosparc-tools' save() writes (and Marshal writes), in pieces.
var (
	layoutOpen         = []byte("{\n    \"")
	layoutEmptyInst    = []byte(": {}")
	layoutOpenInst     = []byte(": {\n        \"")
	layoutToken        = []byte(": {\n            \"token\": {\n                \"access_token\": \"")
	layoutExpires      = []byte(",\n                \"token_type\": \"bearer\"\n            },\n            \"expires\": \"")
	layoutCloseSession = []byte("\"\n        }")
	layoutNextSession  = []byte(",\n        \"")
	layoutCloseInst    = []byte("\n    }")
	layoutNextInst     = []byte(",\n    \"")
	layoutClose        = []byte("\n}")
)

// canonical reads a file laid out exactly as cryosparc-tools writes it,
// which is what nearly every session file is: it matches the fixed text
// between the strings instead of parsing it. It gives up (ok false) at the
// first byte that differs from that layout, or at anything invalid, and
// Parse then reads the file with the general parser, which also explains
// what is wrong. Both must give the same sessions for the same bytes.
func (p *parser) canonical() (s *Sessions, ok bool) {
	d := p.data
	s = &Sessions{now: p.now}
	if string(d) == "{}" {
		return s, true
	}
	expect := func(lit []byte) bool {
		if bytes.HasPrefix(d[p.pos:], lit) {
			p.pos += len(lit)
			return true
		}
		return false
	}
	// str reads the string whose opening quote was just matched.
	str := func() (string, bool) {
		p.pos--
		v, err := p.str()
		return v, err == nil
	}
	if !expect(layoutOpen) {
		return nil, false
	}
	var index keyIndex
	for {
		url, ok := str()
		if !ok {
			return nil, false
		}
		inst := instance{url: url, raw: true}
		kept := p.keep == nil || p.keep(url)
		start := len(p.all)
		if !expect(layoutEmptyInst) {
			if !expect(layoutOpenInst) {
				return nil, false
			}
			for {
				email, ok := str()
				if !ok || !expect(layoutToken) {
					return nil, false
				}
				token, ok := str()
				if !ok || !expect(layoutExpires) {
					return nil, false
				}
				p.pos--
				raw, err := p.str()
				if err != nil {
					return nil, false
				}
				expires, ok := parseDateTime(raw)
				if !ok {
					return nil, false
				}
				p.pos--
				if !expect(layoutCloseSession) {
					return nil, false
				}
				if kept {
					p.all = append(p.all, Session{URL: url, Email: email, Token: token, Expires: expires})
				}
				if expect(layoutNextSession) {
					continue
				}
				if expect(layoutCloseInst) {
					break
				}
				return nil, false
			}
		}
		end := len(p.all)
		inst.sessions = p.all[start:end:end]
		if kept {
			s.add(&index, inst)
		}
		if expect(layoutNextInst) {
			continue
		}
		if expect(layoutClose) && p.pos == len(d) {
			return s, true
		}
		return nil, false
	}
}
