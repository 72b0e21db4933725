package hubspottest

import (
	"mime"
	"net/http"
	"net/url"
)

// oauthError is the token endpoint's error body: RFC 6749 fields plus the
// HubSpot fields kept for backward compatibility.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Status           string `json:"status"`
	Message          string `json:"message"`
	CorrelationID    string `json:"correlationId"`
}

// tokenResponse is a successful grant.
type tokenResponse struct {
	TokenType    string   `json:"token_type"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresIn    int64    `json:"expires_in"`
	HubID        int64    `json:"hub_id"`
	Scopes       []string `json:"scopes"`
	TokenUse     string   `json:"token_use"`
	UserID       int64    `json:"user_id"`
}

// oauthFail answers 400 with an RFC 6749 style body; the request log
// records the HubSpot status (BAD_REFRESH_TOKEN, ...) as the category.
func (ex *exchange) oauthFail(code, status, msg string) {
	ex.category = status
	ex.w.Header().Set("Cache-Control", "no-store")
	ex.json(http.StatusBadRequest, oauthError{
		Error: code, ErrorDescription: msg, Status: status, Message: msg, CorrelationID: newUUID(),
	})
}

// isForm reports whether the request body is form-encoded.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// oauthForm reads a form-encoded body (never the query string) and checks
// the client credentials. It answers the error itself and returns false.
func (s *Server) oauthForm(ex *exchange) (url.Values, bool) {
	if !isForm(ex.r) {
		ex.oauthFail("invalid_request", "BAD_REQUEST",
			"the request body must be application/x-www-form-urlencoded")
		return nil, false
	}
	ex.r.Body = http.MaxBytesReader(ex.w, ex.r.Body, 1<<20)
	if err := ex.r.ParseForm(); err != nil {
		ex.oauthFail("invalid_request", "BAD_REQUEST", "the request body is not a valid form")
		return nil, false
	}
	return ex.r.PostForm, true
}

// checkClient answers invalid_client and returns false on bad credentials.
func (s *Server) checkClient(ex *exchange, f url.Values) bool {
	switch {
	case f.Get("client_id") != s.opts.ClientID:
		ex.oauthFail("invalid_client", "BAD_CLIENT_ID", "missing or unknown client_id")
		return false
	case f.Get("client_secret") != s.opts.ClientSecret:
		ex.oauthFail("invalid_client", "BAD_CLIENT_SECRET", "missing or invalid client_secret")
		return false
	}
	return true
}

// handleToken serves POST /oauth/{v}/token.
func (s *Server) handleToken(ex *exchange) {
	f, ok := s.oauthForm(ex)
	if !ok {
		return
	}
	grant := f.Get("grant_type")
	switch grant {
	case "":
		ex.oauthFail("invalid_request", "BAD_GRANT_TYPE", "missing grant_type")
		return
	case "authorization_code", "refresh_token":
	default:
		ex.oauthFail("unsupported_grant_type", "BAD_GRANT_TYPE", "unsupported grant_type: "+grant)
		return
	}
	if !s.checkClient(ex, f) {
		return
	}
	var resp tokenResponse
	var errCode, status, msg string
	if grant == "authorization_code" {
		resp, errCode, status, msg = s.exchangeCode(f)
	} else {
		resp, errCode, status, msg = s.refreshGrant(f)
	}
	if errCode != "" {
		ex.oauthFail(errCode, status, msg)
		return
	}
	ex.hubID = resp.HubID
	ex.w.Header().Set("Cache-Control", "no-store")
	ex.json(http.StatusOK, resp)
}

// exchangeCode redeems a single-use authorization code.
func (s *Server) exchangeCode(f url.Values) (tokenResponse, string, string, string) {
	code := f.Get("code")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	if code == "" || !ok || c.used || c.clientID != f.Get("client_id") {
		return tokenResponse{}, "invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code"
	}
	if s.now().Sub(c.issued) >= codeTTL {
		delete(s.codes, code)
		return tokenResponse{}, "invalid_grant", "EXPIRED_AUTH_CODE", "auth code is expired"
	}
	if f.Get("redirect_uri") != c.redirectURI {
		return tokenResponse{}, "invalid_grant", "BAD_REDIRECT_URI",
			"redirect_uri does not match the redirect URI used in the authorization request"
	}
	p, ok := s.portals[c.hubID]
	if !ok {
		return tokenResponse{}, "invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code"
	}
	c.used = true
	at := s.issueAccess(p, c.userID, c.scopes)
	rt := s.issueRefresh(p, c.userID, c.scopes)
	s.grants[grantKey{c.hubID, "authorization_code"}]++
	return s.tokenResponse(at, rt), "", "", ""
}

// refreshGrant mints a new access token from a live refresh token.
func (s *Server) refreshGrant(f url.Values) (tokenResponse, string, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.lookupRefresh(f.Get("refresh_token"))
	if !ok {
		const msg = "refresh token is invalid, expired or revoked"
		return tokenResponse{}, "invalid_grant", "BAD_REFRESH_TOKEN", msg
	}
	p := s.portals[rt.hubID]
	at := s.issueAccess(p, rt.userID, rt.scopes)
	if s.opts.RotateRefreshTokens {
		rt.revoked = true
		rt = s.issueRefresh(p, rt.userID, rt.scopes)
	}
	s.grants[grantKey{rt.hubID, "refresh_token"}]++
	return s.tokenResponse(at, rt), "", "", ""
}

func (s *Server) tokenResponse(at *accessToken, rt *refreshToken) tokenResponse {
	return tokenResponse{
		TokenType:    "bearer",
		AccessToken:  at.value,
		RefreshToken: rt.value,
		ExpiresIn:    int64(at.expires.Sub(at.issued).Seconds()),
		HubID:        at.hubID,
		Scopes:       append([]string(nil), at.scopes...),
		TokenUse:     "access_token",
		UserID:       at.userID,
	}
}
