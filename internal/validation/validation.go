// Package validation carries "bad input" errors from the packages that
// check requests to the HTTP layer, which answers them with 400 and the
// offending field (invariant 5 of the design: clear errors).
package validation

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error says which request field is wrong and why.
type Error struct {
	// Field names the field JSON-path style, e.g. "steps[1].syntax".
	Field string
	// Message is a sentence a user can act on.
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns an *Error for field with a formatted message.
func Errorf(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var v *Error
	ok := errors.As(err, &v)
	return v, ok
}

// Text checks that a request string can be stored and shown: valid UTF-8
// without NUL bytes (PostgreSQL text cannot hold them).
func Text(field, value string) error {
	if !utf8.ValidString(value) {
		return Errorf(field, "is not valid UTF-8")
	}
	if strings.ContainsRune(value, 0) {
		return Errorf(field, "contains a NUL character")
	}
	return nil
}
