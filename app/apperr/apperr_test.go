package apperr_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// TestStatus: each code is answered with its HTTP status; an unknown code
// is a 500, never a success.
func TestStatus(t *testing.T) {
	want := map[apperr.Code]int{
		apperr.Invalid: 400, apperr.Unauthorized: 401, apperr.Forbidden: 403, apperr.NotFound: 404,
		apperr.Conflict: 409, apperr.TooLarge: 413, apperr.Unsupported: 415, apperr.Unprocessable: 422,
		apperr.TooMany: 429, apperr.Upstream: 502, apperr.Unavailable: 503, apperr.Internal: 500,
		apperr.Code("made_up"): 500,
	}
	for code, status := range want {
		assert.Equal(t, status, apperr.Status(code), "%s", code)
	}
}

// TestAs: domain errors keep their meaning when they reach a user, wrapped
// or not; anything else is an internal error whose cause is kept for the
// log but not shown.
func TestAs(t *testing.T) {
	plain := errors.New("redis: connection refused")
	tests := []struct {
		name    string
		err     error
		code    apperr.Code
		message string
	}{
		{"application error", apperr.New(apperr.Conflict, "taken"), apperr.Conflict, "taken"},
		{"wrapped application error", fmt.Errorf("save: %w", apperr.New(apperr.NotFound, "no such source")), apperr.NotFound, "no such source"},
		{"mapping problems", &tenants.ValidationError{Problems: []string{"map email"}}, apperr.Unprocessable, "invalid mapping: map email"},
		{"workspace cap", &tenants.CapError{What: "sources", Max: 3}, apperr.Unprocessable,
			"the workspace has 3 sources, the most it may have (REFHUB_MAX_SOURCES): delete one it no longer uses first, or ask refhub's operator to raise the limit"},
		{"not found", fmt.Errorf("source s1: %w", tenants.ErrNotFound), apperr.NotFound, "not found"},
		{"conflict", tenants.ErrConflict, apperr.Conflict, "conflict"},
		{"malformed payload", &payload.Error{Kind: payload.Malformed, Msg: "not JSON"}, apperr.Invalid, "not JSON"},
		{"unprocessable payload", &payload.Error{Kind: payload.Unprocessable, Msg: "no data"}, apperr.Unprocessable, "no data"},
		{"unsupported payload", &payload.Error{Kind: payload.Unsupported, Msg: "xml"}, apperr.Unsupported, "xml"},
		{"payload too large", &payload.Error{Kind: payload.TooLarge, Msg: "big"}, apperr.TooLarge, "big"},
		{"payload of no known kind", &payload.Error{Msg: "?"}, apperr.Internal, "something went wrong on refhub's side; it has been logged"},
		{"anything else", plain, apperr.Internal, "something went wrong on refhub's side; it has been logged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := apperr.As(tc.err)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.message, e.Message)
		})
	}
	assert.ErrorIs(t, apperr.As(plain), plain, "the cause is kept for the log")
	assert.Equal(t, http.StatusInternalServerError, apperr.Status(apperr.As(plain).Code))
}
