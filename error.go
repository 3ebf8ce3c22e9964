package datosbot

import (
	"errors"
	"fmt"
)

// Error codes. Each edge (HTTP, chat reply) translates them once.
const (
	EINVALID      = "invalid"      // bad input; the message says how to fix it
	EUNAUTHORIZED = "unauthorized" // the caller is not authenticated
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAVAILABLE  = "unavailable" // the store (Redis) cannot be reached
	EINTERNAL     = "internal"
)

// Error is the application error: a code for machines and a Spanish message
// for people. Messages say what went wrong and what to do next.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user message of the first *Error in err's chain,
// or a generic message for internal errors, which must not leak details.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Ocurrió un error interno. Intente de nuevo en unos minutos; si persiste, avise a la Unidad."
}
