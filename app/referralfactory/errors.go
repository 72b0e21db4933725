package referralfactory

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Delays used when Referral Factory does not say how long to wait.
const (
	// DefaultRateLimitDelay is the API's burst window: 600 calls per minute.
	DefaultRateLimitDelay = time.Minute
	// DefaultBlockDelay is how long the API blocks an IP that abused the
	// rate limit more than three times (developers.referral-factory.com,
	// "API Limits": "for the next 7 days").
	DefaultBlockDelay = 7 * 24 * time.Hour
)

// maxMessage bounds how much of an error body an error carries.
const maxMessage = 300

// APIError is an error answer from Referral Factory. The more specific types
// below embed it; use errors.As to pick the one a decision depends on.
// Neither the API token nor an inbound webhook URL is ever part of it.
type APIError struct {
	StatusCode int
	// Message is Referral Factory's sentence ("message" of its error body),
	// or the start of a body that was not its JSON error shape.
	Message string
	// Fields are per-field validation messages ("errors" of a 422 body).
	Fields map[string][]string
	// RetryAfter is the Retry-After header, if any (seconds or HTTP date).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "referralfactory: %d", e.StatusCode)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, k := range sortedKeys(e.Fields) {
		fmt.Fprintf(&b, "; %s: %s", k, strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// RateLimitError is a 429: the account's 600 calls per minute are spent.
// Every caller sharing the token must pause, not just the one that got it.
type RateLimitError struct{ *APIError }

// Delay is how long to pause all calls with this token: Retry-After when
// given, otherwise the whole one-minute window.
func (e *RateLimitError) Delay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return DefaultRateLimitDelay
}

// AuthError is a 401 or a 403 that is not a block: the token is wrong or no
// longer active. Referral Factory keeps one active token per account, so
// generating a new one in its settings breaks the old one; retrying cannot
// help until the customer enters the new token.
type AuthError struct{ *APIError }

// BlockedError is Referral Factory refusing this IP address because the
// rate limit was abused more than three times. Nothing sent from this IP
// will be answered until the block ends.
type BlockedError struct{ *APIError }

// Delay is how long the block lasts: Retry-After when given, otherwise the
// documented seven days.
func (e *BlockedError) Delay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return DefaultBlockDelay
}

// ServerError is a 5xx: a transient failure at Referral Factory.
type ServerError struct{ *APIError }

// Delay is the least time to wait before retrying (Retry-After), or 0 to
// use the caller's backoff.
func (e *ServerError) Delay() time.Duration { return e.RetryAfter }

// NotFoundError is a 404: no such user, or (for an inbound webhook) no
// such webhook token.
type NotFoundError struct{ *APIError }

// ValidationError is a 400 or 422: the request was refused as invalid and
// sending it again unchanged cannot succeed. Message and Fields say why.
type ValidationError struct{ *APIError }

// NetworkError is a failure to reach Referral Factory or to read its answer
// (connection refused, timeout, reset, cancelled). It is transient unless
// the context was cancelled; Unwrap exposes the cause for errors.Is.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string { return "referralfactory: " + e.Op + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// RetryDelay says whether err is worth retrying and the least wait before
// the next call: rate limits, blocks, server and network errors are; every
// other answer (auth, not found, validation, a refused URL) is permanent.
func RetryDelay(err error) (time.Duration, bool) {
	var rl *RateLimitError
	var bl *BlockedError
	var se *ServerError
	var ne *NetworkError
	switch {
	case errors.As(err, &rl):
		return rl.Delay(), true
	case errors.As(err, &bl):
		return bl.Delay(), true
	case errors.As(err, &se):
		return se.Delay(), true
	case errors.As(err, &ne):
		return 0, true
	}
	return 0, false
}

// errorBody is Referral Factory's documented error shape
// (developers.referral-factory.com/reference/errors): code, message and
// per-field errors, each either {field, message} or a plain string.
type errorBody struct {
	Code    json.RawMessage            `json:"code"`
	Message string                     `json:"message"`
	Errors  map[string]json.RawMessage `json:"errors"`
}

// parseError turns a non-2xx answer into the matching typed error.
func parseError(status int, h http.Header, raw []byte, now time.Time) error {
	base := &APIError{StatusCode: status, RetryAfter: parseRetryAfter(h.Get("Retry-After"), now)}
	var body errorBody
	if json.Unmarshal(raw, &body) == nil {
		base.Message = clip(body.Message)
		base.Fields = fieldMessages(body.Errors)
	}
	if base.Message == "" && len(base.Fields) == 0 {
		base.Message = clip(strings.TrimSpace(string(raw)))
	}
	if base.Message == "" {
		base.Message = http.StatusText(status)
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &RateLimitError{base}
	case status == http.StatusForbidden && isBlock(base.Message):
		return &BlockedError{base}
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return &AuthError{base}
	case status == http.StatusNotFound:
		return &NotFoundError{base}
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return &ValidationError{base}
	case status >= 500:
		return &ServerError{base}
	}
	return base
}

// isBlock recognises the IP block. Referral Factory documents the block
// but not its answer; a 403 that speaks of blocking is taken as one, any
// other 403 as a refused token.
func isBlock(msg string) bool { return strings.Contains(strings.ToLower(msg), "block") }

// fieldMessages flattens "errors": {"email": [{"field","message"}|"..."]}.
func fieldMessages(errs map[string]json.RawMessage) map[string][]string {
	if len(errs) == 0 {
		return nil
	}
	out := make(map[string][]string, len(errs))
	for k, raw := range errs {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			items = []json.RawMessage{raw}
		}
		for _, it := range items {
			var s string
			var obj struct {
				Message string `json:"message"`
			}
			switch {
			case json.Unmarshal(it, &s) == nil:
			case json.Unmarshal(it, &obj) == nil:
				s = obj.Message
			}
			if s != "" {
				out[clip(k)] = append(out[clip(k)], clip(s))
			}
		}
		if len(out) >= 20 {
			break
		}
	}
	return out
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(DefaultBlockDelay/time.Second)*4 {
			secs = int64(DefaultBlockDelay/time.Second) * 4
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// clip bounds a message taken from an answer and keeps it valid UTF-8.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	s = s[:maxMessage]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
