// Package errkind defines the few kinds of failure the program tells apart,
// each with its exit status. Every package makes its errors of one of
// these kinds, and the command line maps a kind to its exit status in one
// place.
package errkind

import (
	"errors"
	"fmt"
)

// Kind is a kind of failure; errors.Is(err, kind) tells an error's kind.
// Kinds are constants, so that a package's sentinel errors made with New
// are laid out by the compiler and cost the program's start-up nothing
// (docs/performance.md, "Start-up").
type Kind uint8

// The kinds.
const (
	// None is no kind: what Of returns for an error that has none.
	None Kind = iota
	// NotFound: nothing stored matches (exit 1).
	NotFound
	// BadInput: the command line or the request cannot be carried out as
	// given (exit 2).
	BadInput
	// File: the session file cannot be read or written safely (exit 3).
	File
	// Login: the server refused: credentials or token rejected (exit 4).
	Login
	// Unreachable: the server could not be reached or did not answer as
	// CryoSPARC does: network, TLS, timeout, redirect, 5xx (exit 6). A
	// script retries on it, and logs in again on Login.
	Unreachable
	// Output: standard output could not be written, such as a closed pipe
	// (exit 5).
	Output
)

func (k Kind) Error() string {
	switch k {
	case NotFound:
		return "not found"
	case BadInput:
		return "bad input"
	case File:
		return "session file problem"
	case Login:
		return "login failed"
	case Unreachable:
		return "server unreachable"
	case Output:
		return "output failed"
	}
	return "no kind"
}

type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return e.kind != None && target == error(e.kind) }

// sentinel is an error New makes: a kind and a message, as a value. Two
// made of the same kind and message are the same error (==), so a package
// may declare its own copy of another's, and a package's sentinels are
// laid out by the compiler: no code runs for them at start-up.
type sentinel struct {
	kind Kind
	msg  string
}

func (e sentinel) Error() string        { return e.msg }
func (e sentinel) Is(target error) bool { return e.kind != None && target == error(e.kind) }

// New returns an error of kind k with the message msg, for a sentinel
// error callers match with errors.Is. New(k, msg) == New(k, msg).
func New(k Kind, msg string) error { return sentinel{k, msg} }

// Errorf returns an error of kind k formatted as fmt.Errorf does (%w wraps).
func Errorf(k Kind, format string, a ...any) error {
	return &kindError{k, fmt.Errorf(format, a...)}
}

// Of returns the kind of err, or None when it has none.
func Of(err error) Kind {
	for _, k := range [...]Kind{NotFound, BadInput, File, Login, Unreachable, Output} {
		if errors.Is(err, k) {
			return k
		}
	}
	return None
}
