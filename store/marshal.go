package store

import "unicode/utf8"

// Marshal returns the file content cryosparc-tools' save() writes for s:
// model_dump_json(indent=4), byte for byte, with no trailing newline.
func (s *Sessions) Marshal() []byte {
	size := 2
	for _, in := range s.instances {
		size += len(in.url) + 16
		for _, sess := range in.sessions {
			size += len(sess.Email) + len(sess.Token) + 200
		}
	}
	b := make([]byte, 0, size)
	if len(s.instances) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, layoutOpen...)
	for i, in := range s.instances {
		if i > 0 {
			b = append(b, layoutNextInst...)
		}
		b = appendString(b, in.url)
		if len(in.sessions) == 0 {
			b = append(b, layoutEmptyInst...)
			continue
		}
		b = append(b, layoutOpenInst...)
		for j, sess := range in.sessions {
			if j > 0 {
				b = append(b, layoutNextSession...)
			}
			b = appendString(b, sess.Email)
			b = append(b, layoutToken...)
			b = appendString(b, sess.Token)
			b = append(b, layoutExpires...)
			b = sess.Expires.appendTo(b)
			b = append(b, layoutCloseSession...)
		}
		b = append(b, layoutCloseInst...)
	}
	return append(b, layoutClose...)
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

// validText reports whether s can be written to the file: valid UTF-8
// (cryosparc-tools cannot read anything else back).
func validText(s string) bool { return utf8.ValidString(s) }
