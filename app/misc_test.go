package app_test

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
)

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// TestInstallRequestsExactlyTheDeclaredScopes: the install URL asks for the
// required scopes of hubspot-app.json, no more and no fewer.
func TestInstallRequestsExactlyTheDeclaredScopes(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	c := &http.Client{CheckRedirect: noRedirect}
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
		starter := &http.Client{CheckRedirect: noRedirect}
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

// TestPortalOfAnotherWorkspace: an admin who is not in the workspace that
// owns a portal cannot take it over by installing again.
func TestPortalOfAnotherWorkspace(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "agency@agency.test"}, {ID: 777, Email: "client@acme.test"}}},
	}})
	agency := env.Install(1001, 501)
	src := agency.CreateSource(1001, "Main")
	client := env.NewBrowser()
	env.Sim.AutoApprove(1001, 777)
	resp, err := client.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, string(body), "already connected to another refhub workspace")
	assert.Contains(t, string(body), "agency@agency.test")
	status, _ := client.Do(http.MethodGet, "/api/v1/sources/"+src.ID, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestHealthAndMetrics: liveness, readiness (Redis reachable) and metrics
// without per-portal labels.
func TestHealthAndMetrics(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("m", 3, ""), 1)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(env.URL(path))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}
	req, _ := http.NewRequest(http.MethodGet, env.URL("/metrics"), nil)
	req.Header.Set("Authorization", "Bearer "+apptest.MetricsToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	assert.Contains(t, m, "refhub_queue_depth 3")
	assert.Contains(t, m, `refhub_webhook_signups_total{result="accepted"} 3`)
	assert.Contains(t, m, `route="/hooks/referral-factory/:token"`)
	assert.NotContains(t, m, "1001", "no per-portal labels")
	assert.NotContains(t, m, src.WebhookURL[len(env.URL("/hooks/referral-factory/")):], "no webhook tokens")

	require.NoError(t, env.Redis.Close()) // Redis unreachable from here on
	resp, err = http.Get(env.URL("/readyz"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// TestInstallWithABadCode: a genuine state with a code HubSpot refuses ends
// on a clear page (502: HubSpot did not complete it), with nobody signed in
// and no portal stored.
func TestInstallWithABadCode(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.NewBrowser()
	b.CheckRedirect = noRedirect
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
