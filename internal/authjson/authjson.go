// Package authjson is cryosparc-tools' session file, auth.json, as bytes:
// reading them as cryosparc-tools does (what it accepts, what it rejects
// and why, where) and writing the bytes its save() writes. It knows no
// session model beyond plain records (store keeps that, and converts) and
// imports nothing of store.
//
// Two readers give the same result for the same bytes: the canonical
// reader (canonical.go), which matches cryosparc-tools' exact layout as
// fixed text between the strings and gives up at the first byte that
// differs, and the general parser (parser.go), which reads any JSON and
// explains what is wrong. Both read strings and spaces through the scanner
// (scanner.go).
package authjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/cryosparc-credential/cryosparc-credential/internal/expiry"
)

// Session is one session as the file holds it.
type Session struct {
	URL     string // the instance URL, as stored
	Email   string
	Token   string // the bearer access token
	Expires expiry.Expiry
}

// Instance is one instance's sessions, in file order.
type Instance struct {
	URL      string
	Sessions []Session
}

// Problem is one reason the file is not what cryosparc-tools accepts.
type Problem struct {
	Line, Column int    // 1-based position in the file
	Instance     string // instance URL, when the problem is inside one
	Email        string // email, when the problem is inside a session
	Reason       string
	Syntax       bool // the file is not valid JSON; nothing in it can be used
}

// File is what a reading found: the valid part and every problem.
type File struct {
	// Instances in file order: a URL repeated keeps its first place and
	// takes the last value; within an instance a repeated email likewise;
	// sessions expired at the reading's now are dropped. Strings without
	// escapes point into the bytes read, which must not change while
	// they are used (see scanner.view).
	Instances []Instance
	// Problems, in file order; none when cryosparc-tools accepts the file.
	// A syntax problem is alone, and then Instances is empty.
	Problems []Problem
	// Foreign: nothing in the file has the shape of a session.
	Foreign bool
	// Cut: the bytes are the beginning of a JSON document that ends too
	// soon, as a file being written is.
	Cut bool
}

// Read reads the bytes of a session file as cryosparc-tools does,
// dropping sessions that expired at or before now. keep, when not nil,
// says which instances to keep: the others are checked but left out.
func Read(data []byte, now time.Time, keep func(url string) bool) File {
	size := len(data)/200 + 1 // an indented session takes about 250 bytes
	if keep != nil {
		size = 16
	}
	c := &canonical{scanner: scanner{data: data}, now: now.UnixMicro(), keep: keep, all: make([]Session, 0, size)}
	// The canonical reader checks UTF-8 in strings as it goes (elsewhere it
	// accepts only its ASCII layout); the general parser relies on this.
	if list, ok := c.read(); ok {
		return File{Instances: list}
	}
	return general(data, now.UnixMicro(), keep, c.all[:0])
}

// ReadCanonical is the canonical reader alone: ok is false when the bytes
// are not exactly in cryosparc-tools' layout (or are invalid).
func ReadCanonical(data []byte, now time.Time, keep func(url string) bool) (f File, ok bool) {
	c := &canonical{scanner: scanner{data: data}, now: now.UnixMicro(), keep: keep}
	list, ok := c.read()
	return File{Instances: list}, ok
}

// ReadGeneral is the general parser alone, as Read uses it for every file
// the canonical reader gives up on.
func ReadGeneral(data []byte, now time.Time, keep func(url string) bool) File {
	return general(data, now.UnixMicro(), keep, nil)
}

func general(data []byte, now int64, keep func(url string) bool, all []Session) File {
	if !utf8.Valid(data) {
		p := &parser{scanner: scanner{data: data}}
		line, col := p.lineCol(invalidUTF8At(data))
		cut := truncatedJSON(data)
		return File{Problems: []Problem{{Line: line, Column: col, Reason: "invalid UTF-8", Syntax: true}}, Cut: cut, Foreign: !cut}
	}
	p := &parser{scanner: scanner{data: data}, now: now, keep: keep, all: all}
	list, err := p.file()
	if err != nil {
		line, col := p.lineCol(err.pos)
		cut := err.pos >= len(data) && startsObject(data) || truncatedJSON(data)
		return File{Problems: []Problem{{Line: line, Column: col, Reason: err.reason, Syntax: true}},
			Cut: cut, Foreign: !cut && p.shaped == 0}
	}
	if len(p.problems) > 0 {
		return File{Instances: list, Problems: p.problems, Foreign: p.shaped == 0}
	}
	return File{Instances: list}
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
