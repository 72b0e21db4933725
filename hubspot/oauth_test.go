package hubspot_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// authCode runs the consent step against the simulator (auto-approved) and
// returns the code HubSpot redirected back with.
func (e *env) authCode(scopes []string) string {
	e.t.Helper()
	e.sim.AutoApprove(hubAcme, userAdmin)
	defer e.sim.AutoApprove(0, 0)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.client.AuthorizeURL(callbackURL, scopes, "st-1"))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusFound, resp.StatusCode, "the simulator must accept the authorize URL")
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(e.t, err)
	require.Equal(e.t, "st-1", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(e.t, code)
	return code
}

func TestAuthorizeURL(t *testing.T) {
	c := hubspot.New(hubspot.Config{ClientID: "cid-1", AppBase: "https://app.example.test/"})
	raw := c.AuthorizeURL("https://refhub.example.com/oauth/callback?x=1",
		[]string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"}, "state with spaces&=")

	assert.True(t, strings.HasPrefix(raw, "https://app.example.test/oauth/authorize?"), raw)
	assert.Contains(t, raw, "scope=oauth%20crm.objects.contacts.read%20crm.objects.contacts.write")
	_, rawQuery, _ := strings.Cut(raw, "?")
	assert.NotContains(t, rawQuery[strings.Index(rawQuery, "scope="):], "+", "scopes must be joined with %20, not +")

	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, "cid-1", q.Get("client_id"))
	assert.Equal(t, "https://refhub.example.com/oauth/callback?x=1", q.Get("redirect_uri"))
	assert.Equal(t, "state with spaces&=", q.Get("state"))
	assert.Equal(t, "oauth crm.objects.contacts.read crm.objects.contacts.write", q.Get("scope"))
}

func TestDefaults(t *testing.T) {
	c := hubspot.New(hubspot.Config{ClientID: "cid"})
	assert.Equal(t, hubspot.DefaultAppBase, c.AppBase())
	assert.Equal(t, "cid", c.ClientID())
	assert.True(t, strings.HasPrefix(c.AuthorizeURL("https://x.test/cb", nil, "s"), "https://app.hubspot.com/oauth/authorize?"))
	assert.Equal(t, int64(7), c.Portal(7, staticToken("t"), nil).HubID())
}

func TestExchange(t *testing.T) {
	e := newEnv(t)
	code := e.authCode(hubspottest.DefaultRequiredScopes())

	before := time.Now()
	tok, err := e.client.Exchange(context.Background(), code, callbackURL)
	require.NoError(t, err)

	assert.NotEmpty(t, tok.AccessToken)
	assert.True(t, strings.HasPrefix(tok.RefreshToken, "na1-"), tok.RefreshToken)
	assert.Equal(t, hubAcme, tok.HubID)
	assert.Equal(t, userAdmin, tok.UserID)
	assert.ElementsMatch(t, hubspottest.DefaultRequiredScopes(), tok.Scopes)
	assert.Equal(t, 30*time.Minute, tok.ExpiresIn)
	assert.WithinDuration(t, before.Add(30*time.Minute), tok.Expiry, 5*time.Second)
	assert.Equal(t, 1, e.sim.TokenGrants(hubAcme, "authorization_code"))

	req := e.rec.Last(t)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/oauth/2026-03/token", req.Path)
	assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	assert.Empty(t, req.Header.Get("Authorization"), "client credentials travel in the body, not in a Basic header")
	assert.Empty(t, req.Query, "nothing may travel in the query string")
	form := req.Form(t)
	assert.Equal(t, "authorization_code", form.Get("grant_type"))
	assert.Equal(t, code, form.Get("code"))
	assert.Equal(t, callbackURL, form.Get("redirect_uri"))
	assert.Equal(t, "test-client-id", form.Get("client_id"))
	assert.Equal(t, "test-client-secret", form.Get("client_secret"))

	t.Run("code is single use", func(t *testing.T) {
		_, err := e.client.Exchange(context.Background(), code, callbackURL)
		var oe *hubspot.OAuthError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
		assert.Equal(t, "invalid_grant", oe.Code)
		assert.Equal(t, "BAD_AUTH_CODE", oe.Status)
		assert.True(t, oe.InvalidGrant())
		assert.True(t, hubspot.IsInvalidGrant(err))
		assert.False(t, oe.Temporary())
	})
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name   string
		rotate bool
	}{
		{name: "same refresh token", rotate: false},
		{name: "rotating refresh tokens", rotate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *hubspottest.Options) { o.RotateRefreshTokens = tc.rotate })
			tok, err := e.client.Refresh(context.Background(), e.refresh)
			require.NoError(t, err)

			assert.NotEmpty(t, tok.AccessToken)
			assert.NotEqual(t, e.access, tok.AccessToken)
			assert.Equal(t, hubAcme, tok.HubID)
			assert.Equal(t, 30*time.Minute, tok.ExpiresIn)
			assert.Equal(t, 1, e.sim.TokenGrants(hubAcme, "refresh_token"))
			if tc.rotate {
				assert.NotEqual(t, e.refresh, tok.RefreshToken, "a rotated refresh token must be returned")
				_, err := e.client.Refresh(context.Background(), e.refresh)
				assert.True(t, hubspot.IsInvalidGrant(err), "the old refresh token is revoked: %v", err)
			} else {
				assert.Equal(t, e.refresh, tok.RefreshToken)
			}
			_, err = e.client.Refresh(context.Background(), tok.RefreshToken)
			assert.NoError(t, err, "the returned refresh token must work")

			req := e.rec.Requests()[0]
			assert.Equal(t, "/oauth/2026-03/token", req.Path)
			assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
			assert.Empty(t, req.Header.Get("Authorization"))
			form := req.Form(t)
			assert.Equal(t, "refresh_token", form.Get("grant_type"))
			assert.Equal(t, e.refresh, form.Get("refresh_token"))
			assert.Equal(t, "test-client-id", form.Get("client_id"))
			assert.Equal(t, "test-client-secret", form.Get("client_secret"))
			assert.False(t, form.Has("redirect_uri"))
		})
	}
}

func TestRefreshAfterUninstall(t *testing.T) {
	e := newEnv(t)
	e.sim.Uninstall(hubAcme)
	_, err := e.client.Refresh(context.Background(), e.refresh)

	var oe *hubspot.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.True(t, oe.InvalidGrant())
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Equal(t, "BAD_REFRESH_TOKEN", oe.Status)
	assert.NotEmpty(t, oe.Description)
	assert.Contains(t, err.Error(), "refresh token")
	assert.Zero(t, e.sim.TokenGrants(hubAcme, "refresh_token"))
}

func TestOAuthErrorShapes(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		contentType  string
		code, hsStat string
		invalidGrant bool
		temporary    bool
	}{
		{name: "RFC 6749 invalid_grant", status: 400,
			body: `{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN","message":"refresh token is invalid, expired or revoked"}`,
			code: "invalid_grant", hsStat: "BAD_REFRESH_TOKEN", invalidGrant: true},
		{name: "old BAD_REFRESH_TOKEN only", status: 400,
			body:   `{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}`,
			hsStat: "BAD_REFRESH_TOKEN", invalidGrant: true},
		{name: "old BAD_REFRESH_TOKEN as text/plain", status: 400, contentType: "text/plain",
			body:   `{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}`,
			hsStat: "BAD_REFRESH_TOKEN", invalidGrant: true},
		{name: "old EXPIRED_AUTH_CODE", status: 400,
			body:   `{"status":"EXPIRED_AUTH_CODE","message":"auth code is expired"}`,
			hsStat: "EXPIRED_AUTH_CODE", invalidGrant: true},
		{name: "invalid_client", status: 400,
			body: `{"error":"invalid_client","error_description":"missing or invalid client_secret","status":"BAD_CLIENT_SECRET"}`,
			code: "invalid_client", hsStat: "BAD_CLIENT_SECRET"},
		{name: "server error", status: 502, body: `<html>bad gateway</html>`, contentType: "text/html", temporary: true},
		{name: "rate limited", status: 429, body: `{"status":"error","message":"slow down"}`, hsStat: "error", temporary: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			c, _ := fakeHubSpot(t, respond(tc.status, tc.body, "Content-Type", ct))
			for op, call := range map[string]func() error{
				"refresh": func() error { _, err := c.Refresh(context.Background(), "na1-x"); return err },
				"exchange": func() error {
					_, err := c.Exchange(context.Background(), "code", "https://x.test/cb")
					return err
				},
			} {
				err := call()
				var oe *hubspot.OAuthError
				require.ErrorAs(t, err, &oe, "%s: %v", op, err)
				assert.Equal(t, tc.status, oe.StatusCode, op)
				assert.Equal(t, tc.code, oe.Code, op)
				assert.Equal(t, tc.hsStat, oe.Status, op)
				assert.Equal(t, tc.invalidGrant, oe.InvalidGrant(), op)
				assert.Equal(t, tc.invalidGrant, hubspot.IsInvalidGrant(err), op)
				assert.Equal(t, tc.temporary, oe.Temporary(), op)
				assert.NotEmpty(t, oe.Description, op)
			}
		})
	}
}

func TestIntrospect(t *testing.T) {
	e := newEnv(t)

	t.Run("access token", func(t *testing.T) {
		info, err := e.client.Introspect(context.Background(), e.access, "access_token")
		require.NoError(t, err)
		assert.True(t, info.Active)
		assert.Equal(t, hubAcme, info.HubID)
		assert.Equal(t, "acme.hubspot.com", info.HubDomain)
		assert.Equal(t, userAdmin, info.UserID)
		assert.Equal(t, "admin@acme.test", info.User)
		assert.Equal(t, int64(4242), info.AppID)
		assert.Equal(t, "test-client-id", info.ClientID)
		assert.Equal(t, "access_token", info.TokenUse)
		assert.ElementsMatch(t, hubspottest.DefaultRequiredScopes(), info.Scopes)
		assert.InDelta(t, 1800, info.ExpiresIn, 1)

		req := e.rec.Last(t)
		assert.Equal(t, http.MethodPost, req.Method)
		assert.Equal(t, "/oauth/2026-03/token/introspect", req.Path)
		assert.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
		form := req.Form(t)
		assert.Equal(t, e.access, form.Get("token"))
		assert.Equal(t, "access_token", form.Get("token_type_hint"))
		assert.Equal(t, "test-client-id", form.Get("client_id"))
		assert.Equal(t, "test-client-secret", form.Get("client_secret"))
	})

	t.Run("refresh token", func(t *testing.T) {
		info, err := e.client.Introspect(context.Background(), e.refresh, "refresh_token")
		require.NoError(t, err)
		assert.True(t, info.Active)
		assert.Equal(t, hubAcme, info.HubID)
		assert.Equal(t, "refresh_token", info.TokenUse)
		assert.Zero(t, info.ExpiresIn)
	})

	t.Run("invalid token", func(t *testing.T) {
		_, err := e.client.Introspect(context.Background(), "no-such-token", "access_token")
		var ve *hubspot.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, http.StatusBadRequest, ve.StatusCode)
		assert.Equal(t, "VALIDATION_ERROR", ve.Category)
		assert.Equal(t, "OAUTH", ve.SubCategory)
		assert.Equal(t, "Token is invalid", ve.Message)
		assert.NotEmpty(t, ve.CorrelationID)
		assert.Equal(t, []string{"Token is invalid"}, ve.Context["token"])
	})

	t.Run("bad client secret", func(t *testing.T) {
		c := hubspot.New(hubspot.Config{APIBase: e.rec.URL(), ClientID: "test-client-id", ClientSecret: "wrong"})
		_, err := c.Introspect(context.Background(), e.access, "access_token")
		var oe *hubspot.OAuthError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "invalid_client", oe.Code)
		assert.Equal(t, "BAD_CLIENT_SECRET", oe.Status)
		assert.False(t, oe.InvalidGrant())
	})
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.client.Revoke(context.Background(), e.refresh, "refresh_token"))

	req := e.rec.Last(t)
	assert.Equal(t, "/oauth/2026-03/token/revoke", req.Path)
	form := req.Form(t)
	assert.Equal(t, e.refresh, form.Get("token"))
	assert.Equal(t, "refresh_token", form.Get("token_type_hint"))
	assert.Equal(t, "test-client-secret", form.Get("client_secret"))

	_, err := e.client.Refresh(context.Background(), e.refresh)
	assert.True(t, hubspot.IsInvalidGrant(err), "a revoked refresh token must not refresh: %v", err)

	err = e.client.Revoke(context.Background(), e.refresh, "refresh_token")
	var ve *hubspot.ValidationError
	assert.ErrorAs(t, err, &ve, "revoking twice: the token is unknown")
}

// closedAddr returns the base URL of a port nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestOAuthNetworkError(t *testing.T) {
	c := hubspot.New(hubspot.Config{APIBase: closedAddr(t), ClientID: "cid", ClientSecret: "s"})
	tests := []struct {
		name string
		call func() error
	}{
		{"exchange", func() error { _, err := c.Exchange(context.Background(), "c", "https://x.test/cb"); return err }},
		{"refresh", func() error { _, err := c.Refresh(context.Background(), "na1-x"); return err }},
		{"introspect", func() error { _, err := c.Introspect(context.Background(), "t", "access_token"); return err }},
		{"revoke", func() error { return c.Revoke(context.Background(), "t", "refresh_token") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ne *hubspot.NetworkError
			require.ErrorAs(t, err, &ne)
			assert.False(t, hubspot.IsInvalidGrant(err))
			var oe *hubspot.OAuthError
			assert.False(t, errors.As(err, &oe), "a network failure is not an OAuth answer")
		})
	}
}
