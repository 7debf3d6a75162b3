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
type Kind struct{ name string }

func (k *Kind) Error() string { return k.name }

// The kinds.
var (
	// NotFound: nothing stored matches (exit 1).
	NotFound = &Kind{"not found"}
	// BadInput: the command line or the request cannot be carried out as
	// given (exit 2).
	BadInput = &Kind{"bad input"}
	// File: the session file cannot be read or written safely (exit 3).
	File = &Kind{"session file problem"}
	// Login: the server refused: credentials or token rejected (exit 4).
	Login = &Kind{"login failed"}
	// Unreachable: the server could not be reached or did not answer as
	// CryoSPARC does: network, TLS, timeout, redirect, 5xx (exit 6). A
	// script retries on it, and logs in again on Login.
	Unreachable = &Kind{"server unreachable"}
	// Output: standard output could not be written, such as a closed pipe
	// (exit 5).
	Output = &Kind{"output failed"}
)

type kindError struct {
	kind *Kind
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// New returns an error of kind k with the message msg.
func New(k *Kind, msg string) error { return &kindError{k, errors.New(msg)} }

// Errorf returns an error of kind k formatted as fmt.Errorf does (%w wraps).
func Errorf(k *Kind, format string, a ...any) error {
	return &kindError{k, fmt.Errorf(format, a...)}
}

// Of returns the kind of err, or nil when it has none.
func Of(err error) *Kind {
	for _, k := range []*Kind{NotFound, BadInput, File, Login, Unreachable, Output} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
