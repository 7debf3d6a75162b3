package store

import (
	"bytes"
	"runtime"
	"unsafe"
)

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

// maxDateTime bounds the length of an expiry written in the canonical
// layout: 2099-01-31T12:00:00.123456+05:30 is 32 bytes.
const maxDateTime = 40

// splitAbove is the file size from which the canonical reader splits the
// file in two halves read at once, when there is more than one CPU. Below
// it, starting a second thread costs about what it saves (measured: a
// 2.7 MB file read 4% slower in two halves, a 27 MB one 6% faster).
const splitAbove = 8 << 20

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
	if !bytes.HasPrefix(d, layoutOpen) {
		return nil, false
	}
	p.pos = len(layoutOpen)

	// A large file is read in two halves at once. In this layout ",\n    \""
	// appears only where one instance ends and the next begins: strings
	// hold no raw line breaks.
	cut := -1
	if len(d) >= splitAbove && runtime.GOMAXPROCS(0) > 1 {
		if i := bytes.Index(d[len(d)/2:], layoutNextInst); i >= 0 {
			cut = len(d)/2 + i + len(layoutNextInst)
		}
	}
	var (
		second   []instance
		secondOK bool
		done     chan struct{}
	)
	if cut > 0 {
		q := &parser{data: d, pos: cut, now: p.now, keep: p.keep, all: make([]Session, 0, cap(p.all)/2+1)}
		done = make(chan struct{})
		go func() {
			defer close(done)
			// A mapped file truncated meanwhile faults here too: the
			// general parser then meets the same fault where it is caught.
			if guard(func() { second, secondOK = q.instances(-1) }) {
				secondOK = false
			}
		}()
	}
	first, ok := p.instances(cut)
	if done != nil {
		<-done
		ok = ok && secondOK
	}
	if !ok {
		return nil, false
	}
	// Sized once: no garbage from growing (a run collects none).
	total := len(first) + len(second)
	s.instances = make([]instance, 0, total)
	var index keyIndex
	if total > indexAbove {
		index.m = make(map[string]int, total)
	}
	for _, inst := range first {
		s.add(&index, inst)
	}
	for _, inst := range second {
		s.add(&index, inst)
	}
	return s, true
}

// instances reads instances, the first of whose key's opening quote was
// just matched, until the end of the file or, when stop > 0, until the
// position stop where the next instance's key begins. Instances that keep
// rejects are checked but left out.
func (p *parser) instances(stop int) (list []instance, ok bool) {
	d := p.data
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
				// The expiry needs no string scan: it ends at the first
				// quote, and parseDateTime refuses anything but the
				// characters of a date-time (an escape sends the file to
				// the general parser).
				end := bytes.IndexByte(d[p.pos:min(len(d), p.pos+maxDateTime)], '"')
				if end < 0 {
					return nil, false
				}
				expires, ok := parseDateTimeIn(unsafe.String(unsafe.SliceData(d[p.pos:]), end), &p.months)
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
			inst.sessions = p.all[start:end:end]
			list = append(list, inst)
		}
		if expect(layoutNextInst) {
			if p.pos == stop {
				return list, true
			}
			if stop > 0 && p.pos > stop {
				return nil, false
			}
			continue
		}
		if stop <= 0 && expect(layoutClose) && p.pos == len(d) {
			return list, true
		}
		return nil, false
	}
}
