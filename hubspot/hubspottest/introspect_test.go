package hubspottest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntrospectAccessToken(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubAcme, userOps)
	e.clock.Advance(10 * time.Minute)
	forms := map[string]url.Values{
		"token field":     clientForm("token", tk.AccessToken, "token_type_hint", "access_token"),
		"hint-named":      clientForm("access_token", tk.AccessToken, "token_type_hint", "access_token"),
		"token, no hint":  clientForm("token", tk.AccessToken),
		"hint-named only": clientForm("access_token", tk.AccessToken),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			res := e.postForm(introPath, form)
			require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
			b := res.obj(t)
			assert.Equal(t, true, b["active"])
			assert.Equal(t, tk.AccessToken, b["token"])
			assert.EqualValues(t, hubAcme, b["hub_id"])
			assert.EqualValues(t, userOps, b["user_id"])
			assert.Equal(t, "test-client-id", b["client_id"])
			assert.EqualValues(t, 4242, b["app_id"])
			assert.Equal(t, "ops@acme.test", b["user"])
			assert.Equal(t, "acme.hubspot.com", b["hub_domain"])
			assert.Len(t, b["scopes"], 5)
			assert.Equal(t, "access_token", b["token_use"])
			assert.Equal(t, "Bearer", b["token_type"])
			assert.EqualValues(t, 1200, b["expires_in"])
			assert.Equal(t, false, b["is_private_distribution"])
			sat, ok := b["signed_access_token"].(map[string]any)
			require.True(t, ok)
			assert.EqualValues(t, hubAcme, sat["hubId"])
		})
	}
}

func TestIntrospectRefreshToken(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubGlobex, userGlobex)
	for _, form := range []url.Values{
		clientForm("token", tk.RefreshToken, "token_type_hint", "refresh_token"),
		clientForm("refresh_token", tk.RefreshToken, "token_type_hint", "refresh_token"),
	} {
		res := e.postForm(introPath, form)
		require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
		b := res.obj(t)
		assert.Equal(t, "refresh_token", b["token_use"])
		assert.EqualValues(t, hubGlobex, b["hub_id"])
		assert.Equal(t, "hank@globex.test", b["user"])
		for _, absent := range []string{"expires_in", "signed_access_token", "is_private_distribution"} {
			assert.NotContains(t, b, absent)
		}
	}
}

func TestIntrospectInvalidTokens(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubAcme, userAdmin)
	expired := e.install(hubAcme, userAdmin)
	e.clock.Advance(31 * time.Minute)
	fresh := e.install(hubAcme, userAdmin)
	cases := map[string]url.Values{
		"unknown":            clientForm("token", "nope", "token_type_hint", "access_token"),
		"expired access":     clientForm("token", expired.AccessToken),
		"wrong hint":         clientForm("token", fresh.AccessToken, "token_type_hint", "refresh_token"),
		"refresh as access":  clientForm("token", tk.RefreshToken, "token_type_hint", "access_token"),
		"no token":           clientForm("token_type_hint", "access_token"),
		"unsupported hint":   clientForm("token", fresh.AccessToken, "token_type_hint", "id_token"),
		"empty hinted field": clientForm("refresh_token", "", "token_type_hint", "refresh_token"),
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			body := e.postForm(introPath, form).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Equal(t, "Token is invalid", body.Message)
			assert.Equal(t, "OAUTH", body.SubCategory)
			assert.Equal(t, []string{"Token is invalid"}, body.Context["token"])
		})
	}
	t.Run("client credentials checked", func(t *testing.T) {
		form := clientForm("token", fresh.AccessToken)
		form.Set("client_secret", "wrong")
		assertOAuthError(t, e.postForm(introPath, form), "invalid_client", "BAD_CLIENT_SECRET")
	})
	t.Run("form body required", func(t *testing.T) {
		res := e.do(http.MethodPost, introPath, "application/json", "", nil)
		assertOAuthError(t, res, "invalid_request", "BAD_REQUEST")
	})
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	tk := e.install(hubAcme, userAdmin)

	res := e.postForm(revokePath, clientForm("token", tk.RefreshToken, "token_type_hint", "refresh_token"))
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	assertOAuthError(t, e.refresh(tk.RefreshToken), "invalid_grant", "BAD_REFRESH_TOKEN")
	assert.Equal(t, http.StatusBadRequest, e.postForm(introPath, clientForm("token", tk.RefreshToken)).status)
	assert.Equal(t, http.StatusOK, e.get(propsPath, tk.AccessToken).status, "issued access tokens keep working")

	e.postForm(revokePath, clientForm("token", tk.RefreshToken)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	e.postForm(revokePath, clientForm("token", "na1-unknown")).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")

	other := e.install(hubAcme, userAdmin)
	res = e.postForm(revokePath, clientForm("refresh_token", other.RefreshToken, "token_type_hint", "refresh_token"))
	assert.Equal(t, http.StatusNoContent, res.status, "hint-named field accepted")

	form := clientForm("token", other.AccessToken, "token_type_hint", "access_token")
	form.Set("client_id", "someone-else")
	assertOAuthError(t, e.postForm(revokePath, form), "invalid_client", "BAD_CLIENT_ID")

	res = e.postForm(revokePath, clientForm("token", other.AccessToken, "token_type_hint", "access_token"))
	assert.Equal(t, http.StatusNoContent, res.status)
	assert.Equal(t, http.StatusUnauthorized, e.get(propsPath, other.AccessToken).status, "a revoked access token stops working")
}

func TestUninstallRevokesEverything(t *testing.T) {
	e := newEnv(t)
	acme := e.install(hubAcme, userAdmin)
	globex := e.install(hubGlobex, userGlobex)
	seeded, _ := e.s.IssueTokens(hubAcme, userOps, nil)

	e.s.Uninstall(hubAcme)
	for _, at := range []string{acme.AccessToken, seeded} {
		e.get(propsPath, at).apiError(t, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
	}
	assertOAuthError(t, e.refresh(acme.RefreshToken), "invalid_grant", "BAD_REFRESH_TOKEN")
	assert.Equal(t, http.StatusBadRequest, e.postForm(introPath, clientForm("token", acme.AccessToken)).status)
	assert.Equal(t, http.StatusOK, e.get(propsPath, globex.AccessToken).status, "other portals unaffected")

	again := e.install(hubAcme, userAdmin)
	assert.Equal(t, http.StatusOK, e.get(propsPath, again.AccessToken).status, "reinstall works")
}
