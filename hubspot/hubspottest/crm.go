package hubspottest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// maxBodyBytes bounds CRM request bodies.
const maxBodyBytes = 8 << 20

const invalidAuthMessage = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"

// serveCRM runs the pipeline every CRM call goes through, in this order:
// outage, authentication, injected hangs/errors, rate limit, scopes,
// content type, then the endpoint. Every answer carries rate-limit headers.
func (s *Server) serveCRM(ex *exchange, ep endpoint) {
	at, state := s.authenticate(ex.r)
	if at != nil {
		ex.hubID = at.hubID
	}
	if s.inOutage() {
		ex.injected = true
		s.peekRate(ex, ex.hubID)
		ex.fail(http.StatusInternalServerError, "INTERNAL_ERROR", "An internal error occurred (simulated outage).", nil)
		return
	}
	if state != tokenOK {
		s.peekRate(ex, ex.hubID)
		s.unauthorized(ex, at, state)
		return
	}
	if hang, status := s.drawFault(); hang || status != 0 {
		if status == http.StatusTooManyRequests {
			s.injectStatus(ex, status)
			return
		}
		s.peekRate(ex, ex.hubID)
		if hang {
			s.hang(ex)
		} else {
			s.injectStatus(ex, status)
		}
		return
	}
	if !s.admit(ex, at.hubID) {
		s.rateLimited(ex, at.hubID)
		return
	}
	if need, ok := ep.permits(ex.r, at.scopes); !ok {
		s.missingScope(ex, need)
		return
	}
	if ep.jsonBody && !isJSON(ex.r) {
		ct := ex.r.Header.Get("Content-Type")
		ex.fail(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			fmt.Sprintf("Content type '%s' not supported; send application/json", ct), nil)
		return
	}
	ep.handle(ex)
}

// permits reports whether granted scopes allow the call, and otherwise the
// scope to name in the 403.
func (ep endpoint) permits(r *http.Request, granted []string) (string, bool) {
	if ep.accept == nil {
		return ep.scope, slices.Contains(granted, ep.scope)
	}
	accepted := ep.accept(r)
	if len(accepted) == 0 {
		return "", true
	}
	for _, sc := range accepted {
		if slices.Contains(granted, sc) {
			return "", true
		}
	}
	return accepted[0], false
}

// authenticate resolves the bearer token.
func (s *Server) authenticate(r *http.Request) (*accessToken, tokenState) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, tokenInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupAccess(strings.TrimSpace(token))
}

func (s *Server) unauthorized(ex *exchange, at *accessToken, state tokenState) {
	if state == tokenExpired {
		ago := s.now().Sub(at.expires)
		ex.fail(http.StatusUnauthorized, "EXPIRED_AUTHENTICATION",
			fmt.Sprintf("The OAuth token used to make this call expired %s ago.", expiredAgo(ago)), nil)
		return
	}
	ex.fail(http.StatusUnauthorized, "INVALID_AUTHENTICATION", invalidAuthMessage, nil)
}

func (s *Server) missingScope(ex *exchange, scope string) {
	ex.failWith(http.StatusForbidden, apiError{
		Message:  "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
		Category: "MISSING_SCOPES",
		Errors: []errorDetail{{
			Message: "One or more of the following scopes are required.",
			Context: map[string][]string{"requiredScopes": {scope}},
		}},
		Links: map[string]string{"scopes": "https://developers.hubspot.com/scopes"},
	})
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// decodeJSON strictly decodes the request body into v: unknown fields,
// trailing data and wrong types are rejected like HubSpot's JSON layer
// rejects them. It answers 400 itself and returns false on failure.
func decodeJSON(ex *exchange, v any) bool {
	body, err := io.ReadAll(io.LimitReader(ex.r.Body, maxBodyBytes+1))
	if err != nil {
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: could not read the request body", nil)
		return false
	}
	if len(body) > maxBodyBytes {
		ex.fail(http.StatusRequestEntityTooLarge, "VALIDATION_ERROR", "Request body is too large", nil)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: No content to map due to end-of-input", nil)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", jsonErrorMessage(body, err), nil)
		return false
	}
	return true
}

// jsonErrorMessage renders a decode error with line and column like
// HubSpot's "Invalid input JSON on line 1, column 15: ...".
func jsonErrorMessage(body []byte, err error) string {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if offset < 0 || offset > int64(len(body)) {
		return "Invalid input JSON: " + msg
	}
	line, col := 1, 1
	for _, b := range body[:offset] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("Invalid input JSON on line %d, column %d: %s", line, col, msg)
}
