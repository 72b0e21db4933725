package hubspottest

import (
	"encoding/base64"
	"net/http"
	"net/url"
)

// introspection is the token/introspect response, a union discriminated by
// token_use: refresh tokens omit the access-token-only fields.
type introspection struct {
	Active                bool               `json:"active"`
	Token                 string             `json:"token"`
	HubID                 int64              `json:"hub_id"`
	UserID                int64              `json:"user_id"`
	ClientID              string             `json:"client_id"`
	AppID                 int64              `json:"app_id"`
	User                  string             `json:"user"`
	HubDomain             string             `json:"hub_domain"`
	Scopes                []string           `json:"scopes"`
	SignedAccessToken     *signedAccessToken `json:"signed_access_token,omitempty"`
	ExpiresIn             *int64             `json:"expires_in,omitempty"`
	IsPrivateDistribution *bool              `json:"is_private_distribution,omitempty"`
	TokenUse              string             `json:"token_use"`
	TokenType             string             `json:"token_type"`
}

// signedAccessToken mirrors the metadata object HubSpot attaches to access
// token introspection.
type signedAccessToken struct {
	ExpiresAt             int64  `json:"expiresAt"`
	Scopes                string `json:"scopes"`
	HubID                 int64  `json:"hubId"`
	UserID                int64  `json:"userId"`
	AppID                 int64  `json:"appId"`
	Signature             string `json:"signature"`
	NewSignature          string `json:"newSignature"`
	Hublet                string `json:"hublet"`
	IsUserLevel           bool   `json:"isUserLevel"`
	IsPrivateDistribution bool   `json:"isPrivateDistribution"`
	InstallingUserID      int64  `json:"installingUserId"`
}

// invalidToken answers introspect/revoke for a token that is unknown,
// expired, revoked or of the wrong kind.
func (ex *exchange) invalidToken() {
	ex.failWith(http.StatusBadRequest, apiError{
		Message:     "Token is invalid",
		Category:    "VALIDATION_ERROR",
		SubCategory: "OAUTH",
		Context:     map[string][]string{"token": {"Token is invalid"}},
	})
}

// tokenParam returns the token from "token" or, as HubSpot's guide shows,
// from a field named after token_type_hint. ok is false on an unknown hint.
func tokenParam(f url.Values) (token, hint string, ok bool) {
	hint = f.Get("token_type_hint")
	switch hint {
	case "", "access_token", "refresh_token":
	default:
		return "", hint, false
	}
	token = f.Get("token")
	if token == "" && hint != "" {
		token = f.Get(hint)
	}
	if token == "" && hint == "" {
		token = f.Get("access_token")
		if token == "" {
			token = f.Get("refresh_token")
		}
	}
	return token, hint, true
}

// handleIntrospect serves POST /oauth/{v}/token/introspect.
func (s *Server) handleIntrospect(ex *exchange) {
	f, ok := s.oauthForm(ex)
	if !ok || !s.checkClient(ex, f) {
		return
	}
	token, hint, ok := tokenParam(f)
	if !ok || token == "" {
		ex.invalidToken()
		return
	}
	s.mu.Lock()
	resp, found := s.introspect(token, hint)
	s.mu.Unlock()
	if !found {
		ex.invalidToken()
		return
	}
	ex.hubID = resp.HubID
	ex.json(http.StatusOK, resp)
}

// introspect describes a live token; callers hold s.mu.
func (s *Server) introspect(token, hint string) (introspection, bool) {
	if hint != "refresh_token" {
		if at, st := s.lookupAccess(token); st == tokenOK {
			out := s.describe(token, at.hubID, at.userID, at.scopes, "access_token")
			expiresIn := int64(at.expires.Sub(s.now()).Seconds())
			private := false
			out.ExpiresIn = &expiresIn
			out.IsPrivateDistribution = &private
			out.SignedAccessToken = &signedAccessToken{
				ExpiresAt:        at.expires.UnixMilli(),
				Scopes:           base64.StdEncoding.EncodeToString([]byte(token[:24])),
				HubID:            at.hubID,
				UserID:           at.userID,
				AppID:            s.opts.AppID,
				Signature:        randomHex(20),
				NewSignature:     randomHex(32),
				Hublet:           "na1",
				InstallingUserID: at.userID,
			}
			return out, true
		}
	}
	if hint != "access_token" {
		if rt, ok := s.lookupRefresh(token); ok {
			return s.describe(token, rt.hubID, rt.userID, rt.scopes, "refresh_token"), true
		}
	}
	return introspection{}, false
}

func (s *Server) describe(token string, hubID, userID int64, scopes []string, use string) introspection {
	p := s.portals[hubID]
	u, _ := p.info.user(userID)
	return introspection{
		Active:    true,
		Token:     token,
		HubID:     hubID,
		UserID:    userID,
		ClientID:  s.opts.ClientID,
		AppID:     s.opts.AppID,
		User:      u.Email,
		HubDomain: p.info.Domain,
		Scopes:    append([]string(nil), scopes...),
		TokenUse:  use,
		TokenType: "Bearer",
	}
}

// handleRevoke serves POST /oauth/{v}/token/revoke. Revoking a refresh
// token leaves issued access tokens working until they expire; revoking an
// access token ends that token only.
func (s *Server) handleRevoke(ex *exchange) {
	f, ok := s.oauthForm(ex)
	if !ok || !s.checkClient(ex, f) {
		return
	}
	token, hint, ok := tokenParam(f)
	if !ok || token == "" {
		ex.invalidToken()
		return
	}
	s.mu.Lock()
	var hub int64
	if hint != "access_token" {
		if rt, found := s.lookupRefresh(token); found {
			rt.revoked = true
			hub = rt.hubID
		}
	}
	if hub == 0 && hint != "refresh_token" {
		if at, st := s.lookupAccess(token); st != tokenInvalid {
			at.revoked = true
			hub = at.hubID
		}
	}
	s.mu.Unlock()
	if hub == 0 {
		ex.invalidToken()
		return
	}
	ex.hubID = hub
	ex.noContent()
}
