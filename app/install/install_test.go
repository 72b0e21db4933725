package install_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// TestInstallRequestsExactlyTheDeclaredScopes: the install URL asks for the
// required scopes of hubspot-app.json, no more and no fewer.
func TestInstallRequestsExactlyTheDeclaredScopes(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	c := &http.Client{CheckRedirect: apptest.NoRedirect}
	resp, err := c.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/oauth/authorize", loc.Path)
	assert.Contains(t, loc.RawQuery, "scope=oauth%20crm.", "scopes are joined with %20")
	got := strings.Fields(loc.Query().Get("scope"))
	want := append([]string(nil), refhub.App().Config.Auth.RequiredScopes...)
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got)
	assert.Subset(t, got, tenants.DealScopes, "deals need their object and schema scopes")
	assert.Equal(t, env.Config.ClientID, loc.Query().Get("client_id"))
	assert.Equal(t, env.URL("/oauth/callback"), loc.Query().Get("redirect_uri"))
	assert.NotEmpty(t, loc.Query().Get("state"))
	var nonce *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "refhub_oauth_nonce" {
			nonce = ck
		}
	}
	require.NotNil(t, nonce, "the state is bound to a nonce cookie")
	assert.True(t, nonce.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, nonce.SameSite)
}

// TestInstallFailures: denied consent, a state from another browser, and a
// replayed callback each end on a clear page, and nobody is signed in.
func TestInstallFailures(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})

	t.Run("denied", func(t *testing.T) {
		env.Sim.AutoDeny(true)
		defer env.Sim.AutoDeny(false)
		b := env.NewBrowser()
		resp, err := b.Get(env.URL("/oauth/install"))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, string(body), "cancelled in HubSpot")
		assert.Empty(t, b.CSRF(), "not signed in")
	})

	t.Run("state from another browser", func(t *testing.T) {
		env.Sim.AutoApprove(1001, 501)
		defer env.Sim.AutoApprove(0, 0)
		starter := &http.Client{CheckRedirect: apptest.NoRedirect}
		resp, err := starter.Get(env.URL("/oauth/install"))
		require.NoError(t, err)
		resp.Body.Close()
		// Another browser (no nonce cookie) follows the same consent link.
		other := env.NewBrowser()
		resp, err = other.Get(resp.Header.Get("Location"))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, string(body), "install link is invalid or has expired")
		_, err = env.App.Store().Portal(context.Background(), 1001)
		assert.Error(t, err, "no portal was stored")
	})

	t.Run("replayed callback", func(t *testing.T) {
		env.Sim.AutoApprove(1001, 501)
		defer env.Sim.AutoApprove(0, 0)
		b := env.NewBrowser()
		b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == "/oauth/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := b.Get(env.URL("/oauth/install"))
		require.NoError(t, err)
		resp.Body.Close()
		callback := resp.Header.Get("Location")
		require.Contains(t, callback, "/oauth/callback")
		b.CheckRedirect = nil
		resp, err = b.Get(callback)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, "/app/", resp.Request.URL.Path, "the first use signs in")
		// The same callback URL again (and with the cookie gone) is refused.
		resp, err = b.Get(callback)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, string(body), "install link is invalid or has expired")
	})
}

// TestPortalOfAnotherWorkspace: an admin who belongs to a workspace of
// their own cannot take over a portal another workspace holds by
// installing it, nor join that workspace.
func TestPortalOfAnotherWorkspace(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "agency@agency.test"}, {ID: 777, Email: "client@acme.test"}}},
		{HubID: 2002, Domain: "client-own.hubspot.test", Users: []hubspottest.User{{ID: 777, Email: "client@acme.test"}}},
	}})
	agency := env.Install(1001, 501)
	src := agency.CreateSource(1001, "Main")
	env.Install(2002, 777) // their own workspace
	client := env.NewBrowser()
	env.Sim.AutoApprove(1001, 777)
	resp, err := client.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, string(body), "connected to another refhub workspace")
	assert.Contains(t, string(body), "agency@agency.test")
	ws, err := env.App.Store().UserWorkspace(context.Background(), 501)
	require.NoError(t, err)
	m, err := env.App.Store().Member(context.Background(), ws.ID, 777)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "not made a member: %+v", m)
	status, _ := client.Do(http.MethodGet, "/api/v1/sources/"+src.ID, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestInstallWithABadCode: a genuine state with a code HubSpot refuses ends
// on a clear page (502: HubSpot did not complete it), with nobody signed in
// and no portal stored.
func TestInstallWithABadCode(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.NewBrowser()
	b.CheckRedirect = apptest.NoRedirect
	resp, err := b.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	resp, err = b.Get(env.URL("/oauth/callback?code=bogus&state=" + url.QueryEscape(loc.Query().Get("state"))))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, string(body), "HubSpot did not complete the install")
	assert.Empty(t, b.CSRF(), "not signed in")
	_, err = env.App.Store().Portal(context.Background(), 1001)
	assert.Error(t, err, "no portal stored")
}

// TestRefusedInstallRevokesItsToken: an install refused because the portal
// belongs to another workspace leaves no live token behind at HubSpot; the
// owner's token keeps working.
func TestRefusedInstallRevokesItsToken(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "agency@agency.test"}, {ID: 777, Email: "client@acme.test"}}},
		{HubID: 2002, Domain: "client-own.hubspot.test", Users: []hubspottest.User{{ID: 777, Email: "client@acme.test"}}},
	}})
	ctx := context.Background()
	env.Install(1001, 501)
	env.Install(2002, 777)
	kept, err := env.App.Tokens().RefreshToken(ctx, 1001)
	require.NoError(t, err)
	clientOwn, err := env.App.Tokens().RefreshToken(ctx, 2002)
	require.NoError(t, err)

	client := env.NewBrowser()
	env.Sim.AutoApprove(1001, 777)
	resp, err := client.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode)

	hs := hubspot.New(hubspot.Config{APIBase: env.Sim.URL(), ClientID: "refhub-test", ClientSecret: "refhub-test-secret"})
	others := 0
	for _, tok := range env.Sim.IssuedTokens() {
		if !strings.HasPrefix(tok, "na1-") || tok == kept || tok == clientOwn {
			continue
		}
		others++
		_, err := hs.Refresh(ctx, tok)
		assert.True(t, hubspot.IsInvalidGrant(err), "the refused install's refresh token is revoked: %v", err)
	}
	assert.Equal(t, 1, others, "the refused install got one refresh token")
	_, err = hs.Refresh(ctx, kept)
	assert.NoError(t, err, "the owner's token is untouched")
}
