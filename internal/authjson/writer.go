package authjson

import (
	"io"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

// Writer writes the file content cryosparc-tools' save() writes:
// model_dump_json(indent=4), byte for byte, with no trailing newline.
// Call Instance for each instance, then Session for each of its sessions,
// in order, and Bytes at the end. The zero Writer is ready to use.
type Writer struct {
	b        []byte
	started  bool // an instance is open
	sessions int  // sessions written in the open instance
}

// Grow makes room for n more bytes.
func (w *Writer) Grow(n int) {
	if cap(w.b)-len(w.b) < n {
		b := make([]byte, len(w.b), len(w.b)+n)
		copy(b, w.b)
		w.b = b
	}
}

// Instance starts the next instance, stored under url.
func (w *Writer) Instance(url string) {
	if w.started {
		w.closeInstance()
		w.b = append(w.b, layoutNextInst...)
	} else {
		w.b = append(w.b, layoutOpen...)
		w.started = true
	}
	w.b = appendString(w.b, url)
	w.sessions = 0
}

// Session writes the next session of the instance started last.
func (w *Writer) Session(email, token string, expires expiry.Expiry) {
	if w.sessions == 0 {
		w.b = append(w.b, layoutOpenInst...)
	} else {
		w.b = append(w.b, layoutNextSession...)
	}
	w.sessions++
	w.b = appendString(w.b, email)
	w.b = append(w.b, layoutToken...)
	w.b = appendString(w.b, token)
	w.b = append(w.b, layoutExpires...)
	w.b = expires.AppendTo(w.b)
	w.b = append(w.b, layoutCloseSession...)
}

func (w *Writer) closeInstance() {
	if w.sessions == 0 {
		w.b = append(w.b, layoutEmptyInst...)
	} else {
		w.b = append(w.b, layoutCloseInst...)
	}
}

// Bytes ends the file and returns its content.
func (w *Writer) Bytes() []byte {
	if !w.started {
		return append(w.b, "{}"...)
	}
	w.closeInstance()
	return append(w.b, layoutClose...)
}

// Marshal returns the file content for instances, as Writer writes it.
func Marshal(instances []Instance) []byte {
	var w Writer
	for _, in := range instances {
		w.Instance(in.URL)
		for _, s := range in.Sessions {
			w.Session(s.Email, s.Token, s.Expires)
		}
	}
	return w.Bytes()
}

// Write writes the file content for instances to out, as Marshal makes
// it, in pieces of about piece bytes: the whole is never in memory. It
// returns how many bytes it wrote.
func Write(out io.Writer, instances []Instance, piece int) (n int, err error) {
	var w Writer
	w.Grow(piece + 4<<10)
	write := func(b []byte) {
		if err == nil {
			var k int
			k, err = out.Write(b)
			n += k
		}
		w.b = w.b[:0]
	}
	for _, in := range instances {
		w.Instance(in.URL)
		for _, s := range in.Sessions {
			if w.Session(s.Email, s.Token, s.Expires); len(w.b) >= piece {
				write(w.b)
			}
		}
	}
	write(w.Bytes())
	return n, err
}

const hexDigits = "0123456789abcdef"

// shortEscapes are the escapes pydantic writes as a backslash and a letter;
// other bytes below 0x20 are written \u00xx.
var shortEscapes = [256]byte{'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't'}

// appendString writes s as a JSON string the way pydantic does: raw UTF-8,
// escaping only the quote, the backslash and control characters.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		if e := shortEscapes[c]; e != 0 {
			b = append(b, '\\', e)
		} else {
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
