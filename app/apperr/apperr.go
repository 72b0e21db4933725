// Package apperr is refhub's one application error: a code and a message
// meant for the person or program that made the request. Status is the one
// place a code becomes an HTTP status, and As the one place a domain error
// (tenants, payload) becomes an application error.
package apperr

import (
	"errors"
	"net/http"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// Code classifies an error a user or API client sees; API answers carry it
// as error.code.
type Code string

// Error codes; Status maps each to its HTTP status.
const (
	Invalid       Code = "invalid"
	Unauthorized  Code = "unauthorized"
	Forbidden     Code = "forbidden"
	NotFound      Code = "not_found"
	Conflict      Code = "conflict"
	TooLarge      Code = "too_large"
	Unsupported   Code = "unsupported_media_type"
	Unprocessable Code = "unprocessable"
	TooMany       Code = "rate_limited"
	Upstream      Code = "hubspot_error"
	Unavailable   Code = "unavailable"
	Internal      Code = "internal"
)

// Error is a code, a message for whoever made the request, and the cause,
// which is logged but never shown.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of code with msg and no cause.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Status is the one place error codes become HTTP statuses.
func Status(code Code) int {
	switch code {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unsupported:
		return http.StatusUnsupportedMediaType
	case Unprocessable:
		return http.StatusUnprocessableEntity
	case TooMany:
		return http.StatusTooManyRequests
	case Upstream:
		return http.StatusBadGateway
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// payloadCodes are the codes of the kinds of refused payloads.
var payloadCodes = map[payload.Kind]Code{payload.Malformed: Invalid, payload.Unprocessable: Unprocessable,
	payload.Unsupported: Unsupported, payload.TooLarge: TooLarge}

// As turns any error into an *Error: known domain errors keep their
// meaning, anything else becomes an internal error with a generic message.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ve *tenants.ValidationError
	var ce *tenants.CapError
	var pe *payload.Error
	switch {
	case errors.As(err, &pe):
		if code, ok := payloadCodes[pe.Kind]; ok {
			return &Error{Code: code, Message: pe.Msg, Err: err}
		}
	case errors.As(err, &ve):
		return &Error{Code: Unprocessable, Message: ve.Error(), Err: err}
	case errors.As(err, &ce):
		return &Error{Code: Unprocessable, Message: capMessage(ce), Err: err}
	case errors.Is(err, tenants.ErrNotFound):
		return &Error{Code: NotFound, Message: "not found", Err: err}
	case errors.Is(err, tenants.ErrConflict):
		return &Error{Code: Conflict, Message: "conflict", Err: err}
	}
	return &Error{Code: Internal, Message: "something went wrong on refhub's side; it has been logged", Err: err}
}

// capVars name the variable that sets each workspace cap.
var capVars = map[string]string{"sources": "REFHUB_MAX_SOURCES", "API tokens": "REFHUB_MAX_API_TOKENS"}

// capMessage says which cap a workspace reached and the way out.
func capMessage(ce *tenants.CapError) string {
	return ce.Error() + " (" + capVars[ce.What] + "): delete one it no longer uses first, or ask refhub's operator to raise the limit"
}
