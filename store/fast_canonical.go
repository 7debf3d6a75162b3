package store

import (
	"bytes"
	"unsafe"
)

// The layout cryosparc-tools' save() writes, in the pieces between the
// strings: the canonical reader matches them and Marshal writes them.
const (
	layoutOpen         = "{\n    "
	layoutEmptyInst    = ": {}"
	layoutOpenInst     = ": {\n        "
	layoutToken        = ": {\n            \"token\": {\n                \"access_token\": "
	layoutExpires      = ",\n                \"token_type\": \"bearer\"\n            },\n            \"expires\": \""
	layoutCloseSession = "\"\n        }"
	layoutNextSession  = ",\n        "
	layoutCloseInst    = "\n    }"
	layoutNextInst     = ",\n    "
	layoutClose        = "\n}"
)

// maxDateTime bounds the length of an expiry written in the canonical
// layout: 2099-01-31T12:00:00.123456+05:30 is 32 bytes.
const maxDateTime = 40

// canonical reads a file laid out exactly as cryosparc-tools writes it,
// which is what nearly every session file is: it matches the fixed text
// between the strings instead of parsing it. It gives up (ok false) at the
// first byte that differs from that layout, or at anything invalid, and
// Parse then reads the file with the general parser, which also explains
// what is wrong. Both must give the same sessions for the same bytes.
func (p *parser) canonical() (s *Sessions, ok bool) {
	d := p.data
	s = &Sessions{}
	if string(d) == "{}" {
		return s, true
	}
	if !bytes.HasPrefix(d, []byte(layoutOpen)) {
		return nil, false
	}
	p.pos = len(layoutOpen)
	list, ok := p.instances()
	if !ok {
		return nil, false
	}
	// Sized once: no garbage from growing (a run collects none).
	s.instances = make([]instance, 0, len(list))
	var index keyIndex
	if len(list) > indexAbove {
		index.m, index.on = make(map[string]int, len(list)), true
	}
	for _, inst := range list {
		s.add(&index, inst)
	}
	return s, true
}

// instances reads instances, the first of whose key's opening quote is at
// p.pos, until the end of the file. Instances that keep rejects are checked
// but left out.
func (p *parser) instances() (list []instance, ok bool) {
	d := p.data
	expect := func(lit string) bool {
		if bytes.HasPrefix(d[p.pos:], []byte(lit)) {
			p.pos += len(lit)
			return true
		}
		return false
	}
	// str reads the string that starts at p.pos.
	str := func() (string, bool) {
		if p.pos >= len(d) || d[p.pos] != '"' {
			return "", false
		}
		v, err := p.str()
		return v, err == nil
	}
	for {
		url, ok := str()
		if !ok {
			return nil, false
		}
		inst := instance{url: url}
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
				// The expiry needs no string scan: it ends at the first
				// quote, and parseDateTime refuses anything but the
				// characters of a date-time (an escape sends the file to
				// the general parser).
				end := bytes.IndexByte(d[p.pos:min(len(d), p.pos+maxDateTime)], '"')
				if end < 0 {
					return nil, false
				}
				expires, ok := parseDateTime(unsafe.String(unsafe.SliceData(d[p.pos:]), end))
				if !ok {
					return nil, false
				}
				p.pos += end
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
		if kept {
			end := len(p.all)
			inst.sessions = settle(p.all[start:end:end], p.now, &p.emails)
			list = append(list, inst)
		}
		if expect(layoutNextInst) {
			continue
		}
		if expect(layoutClose) && p.pos == len(d) {
			return list, true
		}
		return nil, false
	}
}
