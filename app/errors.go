package app

import (
	"errors"
	"net/http"

	"github.com/refhub/refhub/tenants"
)

// Code classifies an error a user or API client sees.
type Code string

// Error codes; httpStatus maps each to its status.
const (
	EInvalid       Code = "invalid"
	EUnauthorized  Code = "unauthorized"
	EForbidden     Code = "forbidden"
	ENotFound      Code = "not_found"
	EConflict      Code = "conflict"
	ETooLarge      Code = "too_large"
	EUnsupported   Code = "unsupported_media_type"
	EUnprocessable Code = "unprocessable"
	ETooMany       Code = "rate_limited"
	EUpstream      Code = "hubspot_error"
	EUnavailable   Code = "unavailable"
	EInternal      Code = "internal"
)

// Error is refhub's one application error: a code and a message meant for
// the person or program that made the request.
type Error struct {
	Code    Code
	Message string
	Err     error // cause, logged but never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// httpStatus is the one place error codes become HTTP statuses.
func httpStatus(code Code) int {
	switch code {
	case EInvalid:
		return http.StatusBadRequest
	case EUnauthorized:
		return http.StatusUnauthorized
	case EForbidden:
		return http.StatusForbidden
	case ENotFound:
		return http.StatusNotFound
	case EConflict:
		return http.StatusConflict
	case ETooLarge:
		return http.StatusRequestEntityTooLarge
	case EUnsupported:
		return http.StatusUnsupportedMediaType
	case EUnprocessable:
		return http.StatusUnprocessableEntity
	case ETooMany:
		return http.StatusTooManyRequests
	case EUpstream:
		return http.StatusBadGateway
	case EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// asError turns any error into an *Error: known domain errors keep their
// meaning, anything else becomes an internal error with a generic message.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ve *tenants.ValidationError
	var ce *tenants.CapError
	switch {
	case errors.As(err, &ve):
		return &Error{Code: EUnprocessable, Message: ve.Error(), Err: err}
	case errors.As(err, &ce):
		return &Error{Code: EUnprocessable, Message: capMessage(ce), Err: err}
	case errors.Is(err, tenants.ErrNotFound):
		return &Error{Code: ENotFound, Message: "not found", Err: err}
	case errors.Is(err, tenants.ErrConflict):
		return &Error{Code: EConflict, Message: "conflict", Err: err}
	}
	return &Error{Code: EInternal, Message: "something went wrong on refhub's side; it has been logged", Err: err}
}

// capVars name the variable that sets each workspace cap.
var capVars = map[string]string{"sources": "REFHUB_MAX_SOURCES", "API tokens": "REFHUB_MAX_API_TOKENS"}

// capMessage says which cap a workspace reached and the way out.
func capMessage(ce *tenants.CapError) string {
	return ce.Error() + " (" + capVars[ce.What] + "): delete one it no longer uses first, or ask refhub's operator to raise the limit"
}
