package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// APIError is an error response from HubSpot's API. The more specific types
// below embed it; use errors.As to pick the one a decision depends on.
type APIError struct {
	StatusCode    int
	Category      string // VALIDATION_ERROR, CONFLICT, RATE_LIMITS, ...
	SubCategory   string
	Message       string
	CorrelationID string
	Context       map[string][]string
	Details       []ErrorDetail
	RetryAfter    time.Duration // from a Retry-After header, if any
}

// ErrorDetail is one entry of an error body's "errors" list.
type ErrorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code"`
	In      string              `json:"in"`
	Context map[string][]string `json:"context"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %d", e.StatusCode)
	if e.Category != "" {
		b.WriteString(" " + e.Category)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.CorrelationID != "" {
		b.WriteString(" (correlation id " + e.CorrelationID + ")")
	}
	return b.String()
}

// RateLimitError is a 429: the portal's rate limit was exceeded.
type RateLimitError struct {
	*APIError
	Policy   string        // TEN_SECONDLY_ROLLING, SECONDLY, DAILY
	Interval time.Duration // from X-HubSpot-RateLimit-Interval-Milliseconds
}

// Delay is how long the whole portal should pause before calling again.
func (e *RateLimitError) Delay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	switch e.Policy {
	case "SECONDLY":
		return time.Second
	case "DAILY":
		return time.Hour
	}
	if e.Interval > 0 {
		return e.Interval
	}
	return 10 * time.Second
}

// PropertyError is one invalid property value HubSpot reported.
type PropertyError struct {
	Code     string // INVALID_EMAIL, PROPERTY_DOESNT_EXIST, INVALID_OPTION, READ_ONLY_VALUE, ...
	Property string // the property's internal name
	Message  string // HubSpot's sentence, e.g. "Email address x@y is invalid"
}

// ValidationError is a 400: the request (or one of its inputs) was invalid.
type ValidationError struct {
	*APIError
	Properties []PropertyError
}

// ConflictError is a 409: a contact with that email already exists.
type ConflictError struct {
	*APIError
	ExistingID string // parsed from "Contact already exists. Existing ID: N"
}

// AuthError is a 401: the access token expired or is invalid.
type AuthError struct {
	*APIError
	Expired bool
}

// ScopeError is a 403 MISSING_SCOPES: the install lacks a scope.
type ScopeError struct {
	*APIError
	RequiredScopes []string
}

// ServerError is a transient failure at HubSpot: 5xx, 423 Locked, 477
// (account migrating between data centers).
type ServerError struct {
	*APIError
}

// Delay is the least time to wait before retrying, or 0 to use backoff.
func (e *ServerError) Delay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if e.StatusCode == http.StatusLocked {
		return 2 * time.Second
	}
	return 0
}

// NotFoundError is a 404 from a CRM endpoint.
type NotFoundError struct {
	*APIError
}

// NetworkError is a failure to reach HubSpot or to read its answer
// (connection refused, timeout, reset). It is always transient.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string { return "hubspot: " + e.Op + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// errorBody is the union of HubSpot's error body fields.
type errorBody struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory"`
	ErrorType     string              `json:"errorType"`
	PolicyName    string              `json:"policyName"`
	Context       map[string][]string `json:"context"`
	Errors        []ErrorDetail       `json:"errors"`
}

// parseError turns a non-2xx response into the matching typed error.
func parseError(status int, h http.Header, raw []byte) error {
	var body errorBody
	_ = json.Unmarshal(raw, &body)
	base := &APIError{
		StatusCode:    status,
		Category:      body.Category,
		SubCategory:   body.SubCategory,
		Message:       body.Message,
		CorrelationID: body.CorrelationID,
		Context:       body.Context,
		Details:       body.Errors,
		RetryAfter:    retryAfter(h.Get("Retry-After")),
	}
	if base.Message == "" {
		base.Message = strings.TrimSpace(string(truncate(raw, 300)))
	}
	return typed(base, body.PolicyName, body.ErrorType, h)
}

func typed(base *APIError, policy, errorType string, h http.Header) error {
	switch {
	case base.StatusCode == http.StatusTooManyRequests:
		if base.Category == "" {
			base.Category = "RATE_LIMITS"
		}
		e := &RateLimitError{APIError: base, Policy: policy}
		if a, ok := announcedLimit(h); ok {
			e.Interval = a.Interval
		}
		return e
	case base.StatusCode == http.StatusUnauthorized:
		return &AuthError{APIError: base, Expired: base.Category == "EXPIRED_AUTHENTICATION"}
	case base.StatusCode == http.StatusForbidden && base.Category == "MISSING_SCOPES":
		return &ScopeError{APIError: base, RequiredScopes: requiredScopes(base)}
	case base.StatusCode == http.StatusConflict:
		return &ConflictError{APIError: base, ExistingID: existingID(base.Message)}
	case base.StatusCode == http.StatusNotFound:
		return &NotFoundError{APIError: base}
	case base.StatusCode >= 500, base.StatusCode == http.StatusLocked, base.StatusCode == 477:
		return &ServerError{APIError: base}
	case base.StatusCode == http.StatusBadRequest && base.Category == "VALIDATION_ERROR",
		base.StatusCode == http.StatusBadRequest && base.Category == "":
		return &ValidationError{APIError: base, Properties: propertyErrors(base)}
	}
	return base
}

// itemError types one entry of a 207 response's errors list.
func itemError(e errorBody) error {
	status, _ := strconv.Atoi(e.Status)
	if status == 0 {
		switch e.Category {
		case "CONFLICT":
			status = http.StatusConflict
		case "OBJECT_NOT_FOUND":
			status = http.StatusNotFound
		default:
			status = http.StatusBadRequest
		}
	}
	base := &APIError{StatusCode: status, Category: e.Category, SubCategory: e.SubCategory,
		Message: e.Message, CorrelationID: e.CorrelationID, Context: e.Context, Details: e.Errors}
	return typed(base, "", "", http.Header{})
}

var existingIDPattern = regexp.MustCompile(`Existing ID:\s*(\d+)`)

func existingID(msg string) string {
	if m := existingIDPattern.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

func requiredScopes(e *APIError) []string {
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Context["requiredScopes"]...)
	}
	return append(out, e.Context["requiredScopes"]...)
}

// propertyErrors extracts the per-property errors HubSpot embeds as JSON in
// the message ("Property values were not valid: [{...}]") or lists in errors.
func propertyErrors(e *APIError) []PropertyError {
	var out []PropertyError
	if i := strings.Index(e.Message, "["); i >= 0 {
		var inner []struct {
			Message string `json:"message"`
			Error   string `json:"error"`
			Name    string `json:"name"`
		}
		if json.Unmarshal([]byte(e.Message[i:]), &inner) == nil {
			for _, v := range inner {
				if v.Error != "" || v.Name != "" {
					out = append(out, PropertyError{Code: v.Error, Property: v.Name, Message: v.Message})
				}
			}
		}
	}
	for _, d := range e.Details {
		if d.Code == "" {
			continue
		}
		pe := PropertyError{Code: d.Code, Message: d.Message}
		if names := d.Context["propertyName"]; len(names) > 0 {
			pe.Property = names[0]
		}
		out = append(out, pe)
	}
	return out
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// OAuthError is an error from HubSpot's token endpoints, in RFC 6749 shape
// plus HubSpot's own status ("BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", ...).
type OAuthError struct {
	StatusCode  int
	Code        string // RFC 6749 error: invalid_grant, invalid_client, ...
	Status      string // HubSpot's status
	Description string
}

func (e *OAuthError) Error() string {
	code := e.Code
	if code == "" {
		code = e.Status
	}
	return fmt.Sprintf("hubspot oauth: %d %s: %s", e.StatusCode, code, e.Description)
}

// InvalidGrant reports whether the grant (refresh token or code) is dead:
// the app was uninstalled, the token revoked, or the code used or expired.
// Retrying does not help; the portal must be reconnected.
func (e *OAuthError) InvalidGrant() bool {
	switch {
	case e.Code == "invalid_grant":
		return true
	case e.Status == "BAD_REFRESH_TOKEN", e.Status == "BAD_AUTH_CODE", e.Status == "EXPIRED_AUTH_CODE":
		return true
	}
	return false
}

func parseOAuthError(status int, raw []byte) *OAuthError {
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Status           string `json:"status"`
		Message          string `json:"message"`
	}
	_ = json.Unmarshal(raw, &body)
	e := &OAuthError{StatusCode: status, Code: body.Error, Status: body.Status, Description: body.ErrorDescription}
	if e.Description == "" {
		e.Description = body.Message
	}
	if e.Description == "" {
		e.Description = strings.TrimSpace(string(truncate(raw, 300)))
	}
	return e
}

// Temporary reports whether the token endpoint failed transiently (5xx, 429).
func (e *OAuthError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// IsInvalidGrant reports whether err is an OAuth invalid_grant.
func IsInvalidGrant(err error) bool {
	var oe *OAuthError
	return errors.As(err, &oe) && oe.InvalidGrant()
}

// Unwrap lets errors.As find the *APIError inside each specific type.
func (e *RateLimitError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *ValidationError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *ConflictError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *AuthError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *ScopeError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *ServerError) Unwrap() error { return e.APIError }

// Unwrap returns the underlying *APIError.
func (e *NotFoundError) Unwrap() error { return e.APIError }
