package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

// installEnv is an installer against the simulator.
type installEnv struct {
	*tokenEnv
	states    *oauth.States
	installer *oauth.Installer
}

func newInstallEnv(t *testing.T) *installEnv {
	t.Helper()
	e := newTokenEnv(t)
	states := oauth.NewStates(stateKey, e.rdb, e.clock.Now)
	return &installEnv{tokenEnv: e, states: states,
		installer: oauth.NewInstaller(e.client, states, hubspottest.DefaultRequiredScopes(), callbackURL)}
}

// begin starts an install and returns the nonce cookie and consent URL.
func (e *installEnv) begin(returnTo string) (*http.Cookie, string) {
	e.t.Helper()
	w := httptest.NewRecorder()
	consent, err := e.installer.Begin(w, returnTo)
	require.NoError(e.t, err)
	cookies := w.Result().Cookies()
	require.Len(e.t, cookies, 1)
	return cookies[0], consent
}

// consent follows the consent URL at the simulator and returns where
// HubSpot redirects the browser.
func (e *installEnv) consent(consentURL string) string {
	e.t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(consentURL)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusFound, resp.StatusCode, "the simulator accepts the authorize URL")
	return resp.Header.Get("Location")
}

// callback runs the callback request with cookie (nil for none).
func (e *installEnv) callback(location string, cookie *http.Cookie) (*oauth.Grant, *httptest.ResponseRecorder, error) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, location, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	g, err := e.installer.Complete(context.Background(), w, r)
	return g, w, err
}

func TestInstallFlow(t *testing.T) {
	e := newInstallEnv(t)
	e.sim.AutoApprove(hubAcme, userAdmin)
	cookie, consentURL := e.begin("/app/sources?new=1")

	assert.Equal(t, oauth.NonceCookie, cookie.Name)
	assert.NotEmpty(t, cookie.Value)
	assert.Equal(t, "/oauth/", cookie.Path)
	assert.True(t, cookie.HttpOnly)
	assert.True(t, cookie.Secure, "the public URL is https")
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.Equal(t, int(oauth.StateTTL.Seconds()), cookie.MaxAge)

	u, err := url.Parse(consentURL)
	require.NoError(t, err)
	assert.Equal(t, "/oauth/authorize", u.Path)
	assert.Equal(t, callbackURL, u.Query().Get("redirect_uri"))
	assert.NotEmpty(t, u.Query().Get("state"))

	location := e.consent(consentURL)
	grant, w, err := e.callback(location, cookie)
	require.NoError(t, err)

	assert.Equal(t, "/app/sources?new=1", grant.ReturnTo)
	assert.NotEmpty(t, grant.Token.AccessToken)
	assert.NotEmpty(t, grant.Token.RefreshToken)
	assert.Equal(t, hubAcme, grant.Info.HubID)
	assert.Equal(t, "acme.hubspot.com", grant.Info.HubDomain)
	assert.Equal(t, userAdmin, grant.Info.UserID)
	assert.Equal(t, "admin@acme.test", grant.Info.User)
	assert.ElementsMatch(t, hubspottest.DefaultRequiredScopes(), grant.Info.Scopes)
	assert.Equal(t, 1, e.sim.TokenGrants(hubAcme, "authorization_code"))
	assert.Equal(t, 1, e.sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "oauth.introspect" }),
		"the portal and user are learned from HubSpot's introspection")

	cleared := w.Result().Cookies()
	require.Len(t, cleared, 1)
	assert.Equal(t, oauth.NonceCookie, cleared[0].Name)
	assert.Negative(t, cleared[0].MaxAge, "the nonce cookie is cleared")

	_, _, err = e.callback(location, cookie)
	assert.ErrorIs(t, err, oauth.ErrState, "the callback cannot be replayed")
}

func TestInstallCallbackRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *installEnv, cookie *http.Cookie, location string) (*http.Cookie, string)
		check func(t *testing.T, err error)
	}{
		{name: "no nonce cookie",
			setup: func(_ *installEnv, _ *http.Cookie, loc string) (*http.Cookie, string) { return nil, loc },
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, oauth.ErrState) }},
		{name: "another browser's nonce",
			setup: func(_ *installEnv, c *http.Cookie, loc string) (*http.Cookie, string) {
				return &http.Cookie{Name: c.Name, Value: "someone-else"}, loc
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, oauth.ErrState) }},
		{name: "state swapped for another install's",
			setup: func(e *installEnv, c *http.Cookie, loc string) (*http.Cookie, string) {
				_, other := e.begin("/")
				u, _ := url.Parse(loc)
				q := u.Query()
				q.Set("state", mustQuery(e.t, other, "state"))
				u.RawQuery = q.Encode()
				return c, u.String()
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, oauth.ErrState) }},
		{name: "state expired",
			setup: func(e *installEnv, c *http.Cookie, loc string) (*http.Cookie, string) {
				e.clock.Advance(oauth.StateTTL + time.Second)
				return c, loc
			},
			check: func(t *testing.T, err error) { assert.ErrorIs(t, err, oauth.ErrState) }},
		{name: "no code",
			setup: func(_ *installEnv, c *http.Cookie, loc string) (*http.Cookie, string) {
				return c, withoutParam(loc, "code")
			},
			check: func(t *testing.T, err error) {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "no authorization code")
			}},
		{name: "forged code",
			setup: func(_ *installEnv, c *http.Cookie, loc string) (*http.Cookie, string) {
				u, _ := url.Parse(loc)
				q := u.Query()
				q.Set("code", "na1-forged")
				u.RawQuery = q.Encode()
				return c, u.String()
			},
			check: func(t *testing.T, err error) {
				assert.True(t, hubspot.IsInvalidGrant(err), "%v", err)
				assert.Contains(t, err.Error(), "exchange the authorization code")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newInstallEnv(t)
			e.sim.AutoApprove(hubAcme, userAdmin)
			cookie, consentURL := e.begin("/app/")
			location := e.consent(consentURL)
			cookie, location = tc.setup(e, cookie, location)
			grant, _, err := e.callback(location, cookie)
			assert.Nil(t, grant)
			tc.check(t, err)
			assert.Zero(t, e.sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "oauth.introspect" }))
		})
	}
}

func mustQuery(t *testing.T, raw, key string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query().Get(key)
}

func withoutParam(raw, key string) string {
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Del(key)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestInstallDenied(t *testing.T) {
	e := newInstallEnv(t)
	e.sim.AutoDeny(true)
	cookie, consentURL := e.begin("/app/")
	location := e.consent(consentURL)
	assert.Equal(t, "access_denied", mustQuery(t, location, "error"))

	t.Run("with a forged state the state check comes first", func(t *testing.T) {
		u, _ := url.Parse(location)
		q := u.Query()
		q.Set("state", "forged")
		u.RawQuery = q.Encode()
		_, _, err := e.callback(u.String(), cookie)
		assert.ErrorIs(t, err, oauth.ErrState)
		var de *oauth.DeniedError
		assert.False(t, errors.As(err, &de))
	})

	grant, _, err := e.callback(location, cookie)
	assert.Nil(t, grant)
	var de *oauth.DeniedError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "access_denied", de.Code)
	assert.Equal(t, "The user denied access to the app.", de.Description)
	assert.Equal(t, "the install was cancelled in HubSpot: nothing was connected", err.Error())
	assert.Zero(t, e.tokenRequests(), "no code is exchanged")

	other := &oauth.DeniedError{Code: "invalid_scope", Description: "scope mismatch"}
	assert.Equal(t, "HubSpot did not complete the install (invalid_scope): scope mismatch", other.Error())
}

// fakeOAuth serves HubSpot's token and introspection endpoints with fixed
// bodies, for answers the simulator never gives.
func fakeOAuth(t *testing.T, tokenBody, introspectBody string) *hubspot.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/2026-03/token":
			_, _ = w.Write([]byte(tokenBody))
		case "/oauth/2026-03/token/introspect":
			if introspectBody == "" { // not available
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"status":"error","message":"not found","category":"OBJECT_NOT_FOUND"}`))
				return
			}
			_, _ = w.Write([]byte(introspectBody))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return hubspot.New(hubspot.Config{APIBase: srv.URL, AppBase: srv.URL, ClientID: "cid", ClientSecret: "s"})
}

func TestInstallTrustsIntrospection(t *testing.T) {
	const token = `{"token_type":"bearer","access_token":"at","refresh_token":"na1-rt","expires_in":1800,"token_use":"access_token"`
	tests := []struct {
		name       string
		token      string
		introspect string
		check      func(t *testing.T, g *oauth.Grant, err error)
	}{
		{name: "portal, domain and user come from introspection",
			token:      token + `}`,
			introspect: `{"active":true,"hub_id":555,"hub_domain":"real.example.com","user_id":9,"user":"real@example.com","scopes":["oauth"],"token_use":"access_token"}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				require.NoError(t, err)
				assert.Equal(t, int64(555), g.Info.HubID)
				assert.Equal(t, "real.example.com", g.Info.HubDomain)
				assert.Equal(t, int64(9), g.Info.UserID)
				assert.Equal(t, "real@example.com", g.Info.User)
			}},
		{name: "scopes and user id fall back to the token response",
			token:      token + `,"hub_id":555,"user_id":12,"scopes":["oauth","crm.objects.contacts.write"]}`,
			introspect: `{"active":true,"hub_id":555,"hub_domain":"real.example.com"}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				require.NoError(t, err)
				assert.Equal(t, int64(12), g.Info.UserID)
				assert.Equal(t, []string{"oauth", "crm.objects.contacts.write"}, g.Info.Scopes)
			}},
		{name: "exchange and introspection disagree",
			token:      token + `,"hub_id":111}`,
			introspect: `{"active":true,"hub_id":222,"hub_domain":"x.example.com","user_id":1}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				assert.Nil(t, g)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "portal 111 at exchange and 222 at introspection")
			}},
		{name: "inactive token",
			token:      token + `}`,
			introspect: `{"active":false,"hub_id":555}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				assert.Nil(t, g)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "inactive")
			}},
		{name: "introspection unavailable: the token response names the portal",
			token:      token + `,"hub_id":555,"user_id":12,"scopes":["oauth"]}`,
			introspect: "",
			check: func(t *testing.T, g *oauth.Grant, err error) {
				require.NoError(t, err)
				assert.Equal(t, int64(555), g.Info.HubID)
				assert.Equal(t, int64(12), g.Info.UserID)
				assert.Equal(t, "portal 555", g.Info.HubDomain)
			}},
		{name: "introspection unavailable and no portal in the token response",
			token:      token + `}`,
			introspect: "",
			check: func(t *testing.T, g *oauth.Grant, err error) {
				assert.Nil(t, g)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "which portal was installed")
			}},
		{name: "no user: the workspace is never guessed",
			token:      token + `,"hub_id":555}`,
			introspect: `{"active":true,"hub_id":555,"hub_domain":"real.example.com"}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				assert.Nil(t, g)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "which user installed")
			}},
		{name: "no portal: an active token naming no portal is refused like an inactive one",
			token:      token + `,"user_id":9}`,
			introspect: `{"active":true,"user_id":9,"user":"real@example.com"}`,
			check: func(t *testing.T, g *oauth.Grant, err error) {
				assert.Nil(t, g)
				assert.EqualError(t, err, "HubSpot reports the new token as inactive: start the install again")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			states := oauth.NewStates(stateKey, redistest.Client(t), clock.Now)
			inst := oauth.NewInstaller(fakeOAuth(t, tc.token, tc.introspect), states, []string{"oauth"}, callbackURL)
			w := httptest.NewRecorder()
			consentURL, err := inst.Begin(w, "/app/")
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodGet, callbackURL+"?code=c&state="+url.QueryEscape(mustQuery(t, consentURL, "state")), nil)
			r.AddCookie(w.Result().Cookies()[0])
			g, err := inst.Complete(context.Background(), httptest.NewRecorder(), r)
			tc.check(t, g, err)
		})
	}
}

func TestInstallReturnToStaysLocal(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "/app/sources", want: "/app/sources"},
		{in: "/app/?tab=mapping#top", want: "/app/?tab=mapping#top"},
		{in: "", want: ""},
		{in: "app/sources", want: ""},
		{in: "https://evil.example.com/", want: ""},
		{in: "//evil.example.com/", want: ""},
		{in: "/\\evil.example.com", want: ""},
		{in: "/app\r\nSet-Cookie: x=y", want: ""},
	}
	clock := newClock()
	states := oauth.NewStates(stateKey, redistest.Client(t), clock.Now)
	inst := oauth.NewInstaller(hubspot.New(hubspot.Config{}), states, []string{"oauth"}, "http://localhost:8080/oauth/callback")
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			w := httptest.NewRecorder()
			consentURL, err := inst.Begin(w, tc.in)
			require.NoError(t, err)
			cookie := w.Result().Cookies()[0]
			assert.False(t, cookie.Secure, "plain-http development URL: no Secure flag")
			got, err := states.Verify(context.Background(), mustQuery(t, consentURL, "state"), cookie.Value)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestInstallerHelpers(t *testing.T) {
	scopes := []string{"oauth", "crm.objects.contacts.write"}
	inst := oauth.NewInstaller(hubspot.New(hubspot.Config{}), nil, scopes, callbackURL)
	got := inst.Scopes()
	assert.Equal(t, scopes, got)
	got[0] = "changed"
	assert.Equal(t, "oauth", inst.Scopes()[0], "Scopes returns a copy")

	for in, want := range map[string]string{
		"https://refhub.example.com":      "https://refhub.example.com/oauth/callback",
		"https://refhub.example.com/":     "https://refhub.example.com/oauth/callback",
		"https://example.com/refhub/":     "https://example.com/refhub/oauth/callback",
		"http://localhost:8080":           "http://localhost:8080/oauth/callback",
		"https://refhub.example.com:8443": "https://refhub.example.com:8443/oauth/callback",
		"https://example.com/ref hub":     "https://example.com/ref%20hub/oauth/callback", // as a browser sends it
		"http://[::1":                     "http://[::1/oauth/callback",                   // unparsable: left as given
	} {
		assert.Equal(t, want, oauth.RedirectURI(in), in)
	}
}
