package authjson

import (
	"bytes"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

// The layout cryosparc-tools' save() writes, in the pieces between the
// strings: the canonical reader matches them and Writer writes them.
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
// Read then reads the file with the general parser, which also explains
// what is wrong. Both must give the same sessions for the same bytes.
type canonical struct {
	scanner
	keep   func(url string) bool // as parser's
	all    []Session             // as parser's
	now    int64                 // Unix microseconds
	emails keyIndex              // reused by settle for each instance
}

// read reads the whole file.
func (p *canonical) read() (list []Instance, ok bool) {
	d := p.data
	if string(d) == "{}" {
		return nil, true
	}
	if !bytes.HasPrefix(d, []byte(layoutOpen)) {
		return nil, false
	}
	p.pos = len(layoutOpen)
	read, ok := p.instances()
	if !ok {
		return nil, false
	}
	// Sized once: no garbage from growing (a run collects none).
	list = make([]Instance, 0, len(read))
	var index keyIndex
	if len(read) > indexAbove {
		index.m, index.on = make(map[string]int, len(read)), true
	}
	for _, inst := range read {
		list = addInstance(list, &index, inst)
	}
	return list, true
}

// instances reads instances, the first of whose key's opening quote is at
// p.pos, until the end of the file. Instances that keep rejects are checked
// but left out.
func (p *canonical) instances() (list []Instance, ok bool) {
	d := p.data
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
		inst := Instance{URL: url}
		kept := p.keep == nil || p.keep(url)
		start := len(p.all)
		if !p.expect(layoutEmptyInst) {
			if !p.expect(layoutOpenInst) {
				return nil, false
			}
			for {
				email, ok := str()
				if !ok || !p.expect(layoutToken) {
					return nil, false
				}
				token, ok := str()
				if !ok || !p.expect(layoutExpires) {
					return nil, false
				}
				// The expiry needs no string scan: it ends at the first
				// quote, and ParseDateTime refuses anything but the
				// characters of a date-time (an escape sends the file to
				// the general parser).
				end := bytes.IndexByte(d[p.pos:min(len(d), p.pos+maxDateTime)], '"')
				if end < 0 {
					return nil, false
				}
				expires, err := expiry.ParseDateTime(p.view(p.pos, p.pos+end))
				if err != nil {
					return nil, false
				}
				p.pos += end
				if !p.expect(layoutCloseSession) {
					return nil, false
				}
				if kept {
					p.all = append(p.all, Session{URL: url, Email: email, Token: token, Expires: expires})
				}
				if p.expect(layoutNextSession) {
					continue
				}
				if p.expect(layoutCloseInst) {
					break
				}
				return nil, false
			}
		}
		if kept {
			end := len(p.all)
			inst.Sessions = settle(p.all[start:end:end], p.now, &p.emails)
			list = append(list, inst)
		}
		if p.expect(layoutNextInst) {
			continue
		}
		if p.expect(layoutClose) && p.pos == len(d) {
			return list, true
		}
		return nil, false
	}
}
