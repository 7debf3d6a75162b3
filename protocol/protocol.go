// Package protocol reads and writes the key=value lines that git credential
// helpers speak on stdin and stdout.
package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// Limits on what Read accepts.
const (
	MaxLine  = 65535   // bytes in one line, without its line ending
	MaxInput = 1 << 20 // bytes in the whole input
)

// ErrBadInput is matched by every error Read returns for input that breaks
// the format; it is of kind errkind.BadInput.
var ErrBadInput = errkind.New(errkind.BadInput, "bad input")

// ErrUnwritable is matched by the error Write returns for a value that
// would not read back the same; it is of kind errkind.BadInput, as such a
// value can only come from the request (one from the file is refused
// before, as a file problem).
var ErrUnwritable = errkind.New(errkind.BadInput, "value cannot be written as a key=value line")

type inputError struct {
	line int
	msg  string
	err  error // what reading failed with, if it did
}

func (e *inputError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("input line %d: %s", e.line, e.msg)
	}
	return e.msg
}

func (e *inputError) Is(target error) bool {
	return target == ErrBadInput || target == errkind.BadInput
}

func (e *inputError) Unwrap() error { return e.err }

// Attributes are the key=value pairs of one request or answer, in the order
// their keys first appeared.
type Attributes struct {
	keys   []string
	values map[string]string
}

// Get returns the value of key and whether it was given.
func (a *Attributes) Get(key string) (string, bool) {
	v, ok := a.values[key]
	return v, ok
}

// Value returns the value of key, or "" when it was not given.
func (a *Attributes) Value(key string) string { return a.values[key] }

// Set gives key a value, replacing an earlier one in its place.
func (a *Attributes) Set(key, value string) {
	if a.values == nil {
		a.values = map[string]string{}
	}
	if _, ok := a.values[key]; !ok {
		a.keys = append(a.keys, key)
	}
	a.values[key] = value
}

// Keys returns the keys in the order they first appeared.
func (a *Attributes) Keys() []string { return append([]string(nil), a.keys...) }

// Read reads key=value lines up to a blank line or the end of input, with
// git's rules: the key is what precedes the first '=', the value may hold
// '='; one trailing '\r' is dropped; a later value replaces an earlier one.
// A line without '=', a NUL byte, text that is not UTF-8, a line longer than
// MaxLine or input longer than MaxInput is an error matching ErrBadInput,
// and so is a failure to read (a closed or unreadable stdin, such as a
// folder), which also wraps what the read failed with. Errors name the
// line, never a value.
func Read(r io.Reader) (Attributes, error) {
	var a Attributes
	br := bufio.NewReaderSize(r, MaxLine+2)
	total := 0
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		total += len(line)
		if total > MaxInput {
			return a, &inputError{msg: fmt.Sprintf("input is larger than %d bytes", MaxInput)}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return a, &inputError{line: n, msg: fmt.Sprintf("line is longer than %d bytes", MaxLine)}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return a, &inputError{msg: "cannot read the input: " + text.Safe(err.Error()), err: err}
		}
		eof := err != nil
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > MaxLine {
			return a, &inputError{line: n, msg: fmt.Sprintf("line is longer than %d bytes", MaxLine)}
		}
		if len(line) == 0 {
			return a, nil // a blank line or the end of input
		}
		if err := parseLine(&a, n, line); err != nil {
			return a, err
		}
		if eof {
			return a, nil
		}
	}
}

func parseLine(a *Attributes, n int, line []byte) error {
	if bytes.IndexByte(line, 0) >= 0 {
		return &inputError{line: n, msg: "contains a NUL byte"}
	}
	eq := bytes.IndexByte(line, '=')
	if eq < 0 {
		return &inputError{line: n, msg: "is not of the form key=value (no '=')"}
	}
	if eq == 0 {
		return &inputError{line: n, msg: "has an empty key (the line starts with '=')"}
	}
	if !utf8.Valid(line) {
		return &inputError{line: n, msg: "is not valid UTF-8"}
	}
	a.Set(string(line[:eq]), string(line[eq+1:]))
	return nil
}

// safeKey shortens a key for a message.
func safeKey(k string) string {
	k = strings.ToValidUTF8(k, "?")
	if len(k) > 40 {
		return k[:40] + "…"
	}
	return k
}

// Write writes each of keys that a holds as a key=value line, in the order
// given. A value that would not read back the same (holding a newline or
// NUL, or ending in a carriage return) is not written: it is an error
// matching ErrUnwritable, and nothing is written. A failure to write is of
// kind errkind.Output.
func Write(w io.Writer, a *Attributes, keys ...string) error {
	var b bytes.Buffer
	for _, k := range keys {
		v, ok := a.Get(k)
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "\n\x00") || strings.HasSuffix(v, "\r") || strings.ContainsAny(k, "=\n\x00") {
			return fmt.Errorf("%w: the value of %q holds a newline, a final carriage return or NUL", ErrUnwritable, safeKey(k))
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return errkind.Errorf(errkind.Output, "writing the answer: %w", err)
	}
	return nil
}
