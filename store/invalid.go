package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// Problem is one reason the file is not what cryosparc-tools accepts. Its
// fields are internal/authjson's Problem's, which parse converts.
type Problem struct {
	Line, Column int    // 1-based position in the file
	Instance     string // instance URL, when the problem is inside one
	Email        string // email, when the problem is inside a session
	Reason       string
	Syntax       bool // the file is not valid JSON; nothing in it can be used
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	switch {
	case p.Email != "":
		fmt.Fprintf(&b, "session %s of instance %s: ", text.Quote(p.Email), text.Quote(p.Instance))
	case p.Instance != "":
		fmt.Fprintf(&b, "instance %s: ", text.Quote(p.Instance))
	}
	b.WriteString(p.Reason)
	return b.String()
}

// InvalidError reports a session file that cryosparc-tools would reject as a
// whole. Problems lists every reason found, in file order.
type InvalidError struct {
	Path     string
	Problems []Problem
	// foreign: nothing in the file has the shape of a session, so it is
	// probably not a session file at all (another program's file given by
	// mistake).
	foreign bool
	// cut: the file is the beginning of a JSON document that ends too soon,
	// as a file being written is.
	cut bool
}

// ErrInvalid is matched by every *InvalidError.
var ErrInvalid = errors.New("invalid session file")

func (e *InvalidError) Error() string {
	name := text.Safe(e.Path)
	if name == "" {
		name = "session file"
	}
	if e.foreign {
		return fmt.Sprintf("%s does not look like a cryosparc-tools session file (%s)", name, e.Problems[0])
	}
	msg := fmt.Sprintf("%s is not a valid cryosparc-tools session file: %s", name, e.Problems[0])
	if n := len(e.Problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid || target == errkind.File }

// Syntax reports whether the file is not JSON at all, so that nothing in it
// can be used.
func (e *InvalidError) Syntax() bool {
	return len(e.Problems) > 0 && e.Problems[0].Syntax
}

// Foreign reports whether nothing in the file has the shape of a session:
// it is not JSON and not the beginning of a JSON object, or it is an
// object none of whose entries looks like an instance's sessions. Such a
// file is never changed and nothing is created beside it.
func (e *InvalidError) Foreign() bool { return e.foreign }

// Truncated reports whether the file is valid JSON cut short: what a
// reader sees while cryosparc-tools is rewriting the file in place.
func (e *InvalidError) Truncated() bool { return e.cut }
