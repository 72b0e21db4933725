package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// tenantsEnv has two workspaces: A (portal 1001, user 501) with a source,
// an event, a dead letter and an API token; B (portal 2002, user 602).
type tenantsEnv struct {
	env            *apptest.Env
	a, b           *apptest.Browser
	srcA           apptest.Source
	eventA, tokenA string
	tokenB         string
	secretsOfA     []string
}

func twoTenants(t *testing.T) *tenantsEnv {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme-secret-domain.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "alice@acme.test"}}},
		{HubID: 2002, Domain: "globex.hubspot.test", Users: []hubspottest.User{{ID: 602, Email: "bob@globex.test"}}},
	}})
	te := &tenantsEnv{env: env, a: env.Install(1001, 501), b: env.Install(2002, 602)}
	te.srcA = te.a.CreateSource(1001, "Acme private source")
	status, _ := apptest.Post(t, te.srcA.WebhookURL, "application/json", []byte(`{"email":"private.person@acme.test","first_name":"Priv"}`))
	require.Equal(t, http.StatusAccepted, status)
	te.eventA = te.a.Activity(te.srcA.ID, "")[0].ID
	var tok struct {
		Token  struct{ ID string } `json:"token"`
		Secret string              `json:"secret"`
	}
	te.a.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "a"}, http.StatusCreated, &tok)
	te.tokenA = tok.Token.ID
	te.b.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "b"}, http.StatusCreated, &tok)
	te.tokenB = tok.Secret
	te.secretsOfA = []string{"acme-secret-domain", "private.person", "Acme private source", te.srcA.ID,
		te.srcA.WebhookURL[strings.LastIndex(te.srcA.WebhookURL, "/")+1:], te.eventA}
	return te
}

// fill substitutes workspace A's ids into a route pattern.
func (te *tenantsEnv) fill(pattern string) string {
	r := strings.NewReplacer(":hubId", "1001", ":id", te.srcA.ID, ":eventId", te.eventA, ":tokenId", te.tokenA)
	return r.Replace(pattern)
}

func routesUnder(env *apptest.Env, prefix string) []gin.RouteInfo {
	var out []gin.RouteInfo
	for _, r := range env.App.Handler().(*gin.Engine).Routes() {
		if strings.HasPrefix(r.Path, prefix) && r.Path != "/api/v1/openapi.json" && r.Path != "/app/signin" {
			out = append(out, r)
		}
	}
	return out
}

func send(t *testing.T, c *http.Client, method, u string, header http.Header, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

// TestEveryRouteIsAuthorized: every /app/ and /api/v1/ route, called with no
// session, with another workspace's session and with another workspace's
// API token, answers 401/404 (or the caller's own data) and never shows
// workspace A's data.
func TestEveryRouteIsAuthorized(t *testing.T) {
	te := twoTenants(t)
	routes := append(routesUnder(te.env, "/api/v1/"), routesUnder(te.env, "/app/")...)
	require.Greater(t, len(routes), 40)
	anon := &http.Client{CheckRedirect: apptest.NoRedirect}
	for _, r := range routes {
		u := te.env.URL(te.fill(r.Path))
		hasIDs := strings.Contains(r.Path, ":")
		api := strings.HasPrefix(r.Path, "/api/")
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			status, body, hdr := send(t, anon, r.Method, u, nil, url.Values{})
			body = strings.ReplaceAll(body, url.QueryEscape(te.fill(r.Path)), "") // its own URL, echoed to sign in
			switch {
			case api || r.Method != http.MethodGet:
				assert.Equal(t, http.StatusUnauthorized, status, "no session")
			default:
				assert.Equal(t, http.StatusFound, status, "no session: sent to sign in")
				assert.Contains(t, hdr.Get("Location"), "/app/signin")
			}
			te.assertNoLeak(t, body)

			if r.Path == "/app/signout" {
				return // would end B's session for the routes after it
			}
			form := url.Values{"csrf_token": {te.b.CSRF()}, "name": {"x"}}
			status, body, _ = send(t, te.b.Client, r.Method, u, http.Header{"X-Csrf-Token": {te.b.CSRF()}}, form)
			if hasIDs {
				assert.Equal(t, http.StatusNotFound, status, "another workspace's ids")
			}
			te.assertNoLeak(t, body)

			if api {
				status, body, _ = send(t, http.DefaultClient, r.Method, u, http.Header{"Authorization": {"Bearer " + te.tokenB}}, nil)
				if hasIDs {
					assert.Contains(t, []int{http.StatusUnauthorized, http.StatusNotFound}, status, "another workspace's API token")
				}
				te.assertNoLeak(t, body)
			}
		})
	}
	// Nothing of A was changed by all that.
	assert.Len(t, te.a.Activity(te.srcA.ID, ""), 1)
	var src apptest.Source
	te.a.JSON(http.MethodGet, "/api/v1/sources/"+te.srcA.ID, nil, http.StatusOK, &src)
	assert.Equal(t, te.srcA.WebhookURL, src.WebhookURL)
}

func (te *tenantsEnv) assertNoLeak(t *testing.T, body string) {
	t.Helper()
	for _, s := range te.secretsOfA {
		assert.NotContains(t, body, s, "workspace A's data must not show")
	}
}

// TestCSRFIsRequired: every state-changing /app/ and /api/v1/ route refuses
// a cookie-authenticated request without, or with a forged, CSRF token.
func TestCSRFIsRequired(t *testing.T) {
	te := twoTenants(t)
	for _, r := range append(routesUnder(te.env, "/api/v1/"), routesUnder(te.env, "/app/")...) {
		if r.Method == http.MethodGet {
			continue
		}
		u := te.env.URL(te.fill(r.Path))
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			for name, token := range map[string]string{"missing": "", "forged": "Zm9yZ2Vk" + te.b.CSRF()[8:]} {
				form := url.Values{"name": {"changed"}}
				hdr := http.Header{}
				if token != "" {
					form.Set("csrf_token", token)
					hdr.Set("X-Csrf-Token", token)
				}
				status, body, _ := send(t, te.a.Client, r.Method, u, hdr, form)
				assert.Equal(t, http.StatusForbidden, status, "%s CSRF token: %s", name, body)
			}
		})
	}
	var src struct{ Name string }
	te.a.JSON(http.MethodGet, "/api/v1/sources/"+te.srcA.ID, nil, http.StatusOK, &src)
	assert.Equal(t, "Acme private source", src.Name, "nothing changed")
	assert.Len(t, te.a.Activity(te.srcA.ID, ""), 1)
}
