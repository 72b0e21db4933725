package hubspottest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func TestCodeExchangeReturnsHubSpotTokenResponse(t *testing.T) {
	e := newEnv(t)
	res := e.exchange(e.authCode(hubAcme, userAdmin))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	var tk tokens
	res.decode(t, &tk)
	assert.Equal(t, "bearer", tk.TokenType)
	assert.GreaterOrEqual(t, len(tk.AccessToken), 300)
	assert.Regexp(t, `^na1-[0-9a-f-]{36}$`, tk.RefreshToken)
	assert.Equal(t, 1800, tk.ExpiresIn)
	assert.Equal(t, hubAcme, tk.HubID)
	assert.Equal(t, userAdmin, tk.UserID)
	assert.Equal(t, "access_token", tk.TokenUse)
	assert.ElementsMatch(t, hubspottest.DefaultRequiredScopes(), tk.Scopes)
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.Equal(t, 1, e.s.TokenGrants(hubAcme, "authorization_code"))
	assert.Equal(t, 0, e.s.TokenGrants(hubGlobex, "authorization_code"))

	crm := e.get(propsPath, tk.AccessToken)
	assert.Equal(t, http.StatusOK, crm.status, "the issued token works on the CRM API")
}

func TestTokenTTLOption(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.TokenTTL = 5 * time.Minute })
	assert.Equal(t, 300, e.install(hubAcme, userAdmin).ExpiresIn)
}

func TestSetTokenTTL(t *testing.T) {
	e := newEnv(t)
	before := e.install(hubAcme, userAdmin)
	assert.Equal(t, 1800, before.ExpiresIn)
	e.s.SetTokenTTL(2 * time.Minute)
	res := e.refresh(before.RefreshToken)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	var after tokens
	res.decode(t, &after)
	assert.Equal(t, 120, after.ExpiresIn, "tokens issued from now on")
	e.clock.Advance(2 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, e.get(propsPath, after.AccessToken).status, "and they expire then")
	assert.Equal(t, http.StatusOK, e.get(propsPath, before.AccessToken).status, "a token issued before keeps its lifetime")
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name       string
		form       url.Values
		wantError  string
		wantStatus string
	}{
		{"missing grant_type", clientForm(), "invalid_request", "BAD_GRANT_TYPE"},
		{"unsupported grant", clientForm("grant_type", "password"), "unsupported_grant_type", "BAD_GRANT_TYPE"},
		{"client credentials not offered", clientForm("grant_type", "client_credentials"), "unsupported_grant_type", "BAD_GRANT_TYPE"},
		{"wrong client id", url.Values{"grant_type": {"refresh_token"}, "client_id": {"x"}, "client_secret": {"test-client-secret"}}, "invalid_client", "BAD_CLIENT_ID"},
		{"wrong client secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {"test-client-id"}, "client_secret": {"x"}}, "invalid_client", "BAD_CLIENT_SECRET"},
		{"unknown code", clientForm("grant_type", "authorization_code", "code", "na1-nope", "redirect_uri", callbackURL), "invalid_grant", "BAD_AUTH_CODE"},
		{"missing code", clientForm("grant_type", "authorization_code", "redirect_uri", callbackURL), "invalid_grant", "BAD_AUTH_CODE"},
		{"unknown refresh token", clientForm("grant_type", "refresh_token", "refresh_token", "na1-nope"), "invalid_grant", "BAD_REFRESH_TOKEN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postForm(tokenPath, tc.form)
			assertOAuthError(t, res, tc.wantError, tc.wantStatus)
		})
	}
}

func assertOAuthError(t *testing.T, res response, wantError, wantStatus string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, res.status, "body: %s", res.body)
	body := res.obj(t)
	assert.Equal(t, wantError, body["error"], "body: %s", res.body)
	assert.Equal(t, wantStatus, body["status"], "body: %s", res.body)
	assert.NotEmpty(t, body["error_description"])
	assert.Equal(t, body["error_description"], body["message"])
	assert.Regexp(t, uuidPattern, body["correlationId"])
}

func TestTokenEndpointRequiresFormBody(t *testing.T) {
	e := newEnv(t)
	code := e.authCode(hubAcme, userAdmin)
	form := clientForm("grant_type", "authorization_code", "code", code, "redirect_uri", callbackURL)

	jsonBody := `{"grant_type":"authorization_code","code":"` + code + `"}`
	res := e.do(http.MethodPost, tokenPath, "application/json", "", strings.NewReader(jsonBody))
	assertOAuthError(t, res, "invalid_request", "BAD_REQUEST")

	res = e.do(http.MethodPost, tokenPath+"?"+form.Encode(), "application/x-www-form-urlencoded", "", nil)
	assertOAuthError(t, res, "invalid_request", "BAD_GRANT_TYPE")

	res = e.do(http.MethodPost, tokenPath, "application/x-www-form-urlencoded; charset=utf-8", "", strings.NewReader(form.Encode()))
	assert.Equal(t, http.StatusOK, res.status, "the code survived the bad attempts; body: %s", res.body)
}

func TestTokenEndpointVersions(t *testing.T) {
	e := newEnv(t)
	form := clientForm("grant_type", "authorization_code", "code", e.authCode(hubAcme, userAdmin), "redirect_uri", callbackURL)
	for _, path := range []string{"/oauth/v1/token", "/oauth/v3/token", "/oauth/2025-09/token"} {
		assert.Equal(t, http.StatusNotFound, e.postForm(path, form).status, path)
	}
	assert.Equal(t, http.StatusOK, e.postForm("/oauth/2026-09/token", form).status)
	assert.Equal(t, http.StatusMethodNotAllowed, e.get(tokenPath, "").status)
}

func TestAuthorizationCodeRules(t *testing.T) {
	t.Run("single use", func(t *testing.T) {
		e := newEnv(t)
		code := e.authCode(hubAcme, userAdmin)
		require.Equal(t, http.StatusOK, e.exchange(code).status)
		assertOAuthError(t, e.exchange(code), "invalid_grant", "BAD_AUTH_CODE")
	})
	t.Run("expires after ten minutes", func(t *testing.T) {
		e := newEnv(t)
		code := e.authCode(hubAcme, userAdmin)
		e.clock.Advance(10 * time.Minute)
		assertOAuthError(t, e.exchange(code), "invalid_grant", "EXPIRED_AUTH_CODE")
	})
	t.Run("valid just before expiry", func(t *testing.T) {
		e := newEnv(t)
		code := e.authCode(hubAcme, userAdmin)
		e.clock.Advance(10*time.Minute - time.Second)
		assert.Equal(t, http.StatusOK, e.exchange(code).status)
	})
	t.Run("redirect_uri must match the authorize request", func(t *testing.T) {
		other := "https://app.refhub.test/other"
		e := newEnv(t, func(o *hubspottest.Options) { o.RedirectURIs = []string{callbackURL, other} })
		code := e.authCode(hubAcme, userAdmin)
		res := e.postForm(tokenPath, clientForm("grant_type", "authorization_code", "code", code, "redirect_uri", other))
		assertOAuthError(t, res, "invalid_grant", "BAD_REDIRECT_URI")
		res = e.postForm(tokenPath, clientForm("grant_type", "authorization_code", "code", code))
		assertOAuthError(t, res, "invalid_grant", "BAD_REDIRECT_URI")
		assert.Equal(t, http.StatusOK, e.exchange(code).status, "a mismatch does not burn the code")
	})
}

func TestRefreshGrant(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubAcme, userAdmin)
	e.clock.Advance(20 * time.Minute)
	res := e.refresh(tk.RefreshToken)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	var next tokens
	res.decode(t, &next)
	assert.NotEqual(t, tk.AccessToken, next.AccessToken)
	assert.Equal(t, tk.RefreshToken, next.RefreshToken, "refresh tokens do not rotate by default")
	assert.Equal(t, hubAcme, next.HubID)
	assert.Equal(t, userAdmin, next.UserID)
	assert.ElementsMatch(t, tk.Scopes, next.Scopes)
	assert.Equal(t, 1, e.s.TokenGrants(hubAcme, "refresh_token"))

	assert.Equal(t, http.StatusOK, e.get(propsPath, tk.AccessToken).status, "old access token still valid until expiry")
	e.clock.Advance(11 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, e.get(propsPath, tk.AccessToken).status)
	assert.Equal(t, http.StatusOK, e.get(propsPath, next.AccessToken).status)
	assert.Equal(t, http.StatusOK, e.refresh(tk.RefreshToken).status, "same refresh token keeps working")
}

func TestRefreshTokenRotation(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RotateRefreshTokens = true })
	tk := e.install(hubAcme, userAdmin)
	res := e.refresh(tk.RefreshToken)
	require.Equal(t, http.StatusOK, res.status)
	var next tokens
	res.decode(t, &next)
	assert.NotEqual(t, tk.RefreshToken, next.RefreshToken)
	assertOAuthError(t, e.refresh(tk.RefreshToken), "invalid_grant", "BAD_REFRESH_TOKEN")
	assert.Equal(t, http.StatusOK, e.refresh(next.RefreshToken).status)
	assert.Equal(t, 2, e.s.TokenGrants(hubAcme, "refresh_token"))
}

func TestBadRefreshTokenBody(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubAcme, userAdmin)
	e.s.RevokeRefreshTokens(hubAcme)
	res := e.refresh(tk.RefreshToken)
	require.Equal(t, http.StatusBadRequest, res.status)
	body := res.obj(t)
	assert.Equal(t, "invalid_grant", body["error"])
	assert.Equal(t, "refresh token is invalid, expired or revoked", body["error_description"])
	assert.Equal(t, "BAD_REFRESH_TOKEN", body["status"])
	assert.Equal(t, "refresh token is invalid, expired or revoked", body["message"])
	assert.Equal(t, http.StatusOK, e.get(propsPath, tk.AccessToken).status, "access tokens survive refresh revocation")
	assert.Equal(t, http.StatusOK, e.refresh(e.install(hubAcme, userAdmin).RefreshToken).status, "re-install works")
}

func TestTokenEndpointIsNotRateLimited(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = 2 })
	tk := e.install(hubAcme, userAdmin)
	for i := 0; i < 5; i++ {
		require.Equal(t, http.StatusOK, e.refresh(tk.RefreshToken).status)
	}
	res := e.get(propsPath, tk.AccessToken)
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "1", res.header.Get("X-HubSpot-RateLimit-Remaining"), "OAuth calls did not use the CRM window")
}

// TestDeactivateUser: a deactivated user's refresh tokens are refused with
// invalid_grant and they can no longer authorize the app; another user's
// tokens for the same portal keep working, and access tokens already
// issued run until they expire.
func TestDeactivateUser(t *testing.T) {
	e := newEnv(t)
	admin, ops := e.install(hubAcme, userAdmin), e.install(hubAcme, userOps)
	e.s.DeactivateUser(hubAcme, userAdmin)

	assertOAuthError(t, e.refresh(admin.RefreshToken), "invalid_grant", "BAD_REFRESH_TOKEN")
	assert.Equal(t, http.StatusOK, e.refresh(ops.RefreshToken).status, "another user's grant still works")
	assert.Equal(t, http.StatusOK, e.get(propsPath, admin.AccessToken).status, "an issued access token runs until it expires")

	e.s.AutoApprove(hubAcme, userAdmin)
	defer e.s.AutoApprove(0, 0)
	res := e.get(authorizeURL+"?"+authorizeQuery().Encode(), "")
	assert.Equal(t, http.StatusBadRequest, res.status, "a deactivated user cannot install the app")
	assert.Panics(t, func() { e.s.DeactivateUser(hubAcme, 999) })
}
