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

// membersEnv is one workspace with four kinds of caller: its owner (501),
// an admin of every portal (702), an admin of portal 1003 only (703) and
// a viewer of every portal (704). Portal 1001 holds source A with an
// event; portal 1003 source C.
type membersEnv struct {
	*tenantsEnv
	srcC                       apptest.Source
	adminAll, adminOne, viewer *apptest.Browser
}

func membersMatrix(t *testing.T) *membersEnv {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme-secret-domain.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "alice@acme.test"},
			{ID: 702, Email: "all@acme.test"}, {ID: 704, Email: "viewer@acme.test"}}},
		{HubID: 1003, Domain: "client.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "alice@acme.test"}, {ID: 703, Email: "one@client.test"}}},
	}})
	te := &tenantsEnv{env: env, a: env.Install(1001, 501)}
	te.a.Install(1003, 501)
	te.srcA = te.a.CreateSource(1001, "Acme private source")
	status, _ := apptest.Post(t, te.srcA.WebhookURL, "application/json", []byte(`{"email":"private.person@acme.test","first_name":"Priv"}`))
	require.Equal(t, http.StatusAccepted, status)
	te.eventA = te.a.Activity(te.srcA.ID, "")[0].ID
	var tok struct {
		Token struct{ ID string } `json:"token"`
	}
	te.a.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "a"}, http.StatusCreated, &tok)
	te.tokenA = tok.Token.ID
	te.secretsOfA = []string{"acme-secret-domain", "private.person", "Acme private source", te.srcA.ID,
		te.srcA.WebhookURL[strings.LastIndex(te.srcA.WebhookURL, "/")+1:], te.eventA}
	me := &membersEnv{tenantsEnv: te, adminAll: env.Install(1001, 702), adminOne: env.Install(1003, 703), viewer: env.Install(1001, 704)}
	me.srcC = me.adminOne.CreateSource(1003, "Client source")
	te.a.JSON(http.MethodPatch, "/api/v1/members/702", map[string]any{"role": "admin", "portals": "all"}, http.StatusOK, nil)
	te.a.JSON(http.MethodPatch, "/api/v1/members/704", map[string]any{"role": "viewer", "portals": "all"}, http.StatusOK, nil)
	return me
}

// TestEveryRouteIsAuthorizedForMembers: every /app/ and /api/v1/ route,
// called by each kind of member of the workspace. Reads succeed for the
// owner, an admin of every portal and a viewer; an admin of another
// portal gets 404 for portal 1001 and its source and never sees their
// data; a viewer's every change is refused (403); only the owner manages
// members; nothing of the workspace changed.
func TestEveryRouteIsAuthorizedForMembers(t *testing.T) {
	me := membersMatrix(t)
	routes := append(routesUnder(me.env, "/api/v1/"), routesUnder(me.env, "/app/")...)
	require.Greater(t, len(routes), 45)
	fill := strings.NewReplacer(":hubId", "1001", ":id", me.srcA.ID, ":eventId", me.eventA, ":tokenId", me.tokenA, ":memberId", "704")
	callers := []struct {
		name string
		b    *apptest.Browser
	}{{"owner", me.a}, {"admin of every portal", me.adminAll}, {"admin of portal 1003", me.adminOne}, {"viewer", me.viewer}}
	for _, r := range routes {
		if r.Path == "/app/signout" {
			continue
		}
		u := me.env.URL(fill.Replace(r.Path))
		names := strings.Contains(r.Path, ":hubId") || strings.Contains(r.Path, ":id")
		write := r.Method != http.MethodGet
		members := strings.Contains(r.Path, "/members/")
		tokens := strings.Contains(r.Path, "/tokens")
		for _, c := range callers {
			if write && (c.b == me.a || (c.b == me.adminAll && !members)) {
				continue // allowed, and would change the fixture: TestOwnerGrantsAndRemoves and the others cover what it does
			}
			t.Run(c.name+" "+r.Method+" "+r.Path, func(t *testing.T) {
				form := url.Values{"csrf_token": {c.b.CSRF()}, "name": {"x"}, "role": {"admin"}, "all": {"on"}}
				status, body, _ := send(t, c.b.Client, r.Method, u, http.Header{"X-Csrf-Token": {c.b.CSRF()}, "Content-Type": {"application/json"}}, form)
				switch {
				case members && c.b != me.a:
					assert.Equal(t, http.StatusForbidden, status, "only the owner manages members")
				case c.b == me.adminOne && names:
					assert.Equal(t, http.StatusNotFound, status, "a portal and source not granted")
				case c.b == me.viewer && (write || tokens):
					assert.Equal(t, http.StatusForbidden, status, "a viewer changes nothing and has no tokens")
				case c.b == me.adminOne && strings.Contains(r.Path, ":tokenId"):
					assert.Equal(t, http.StatusNotFound, status, "another member's token")
				case !write:
					assert.Equal(t, http.StatusOK, status, "a read of what the member may see: %.300s", body)
				}
				if c.b == me.adminOne {
					me.assertNoLeak(t, body)
				}
			})
		}
	}
	// An admin of portal 1003 works on it.
	status, _ := me.adminOne.Do(http.MethodGet, "/api/v1/portals/1003", nil)
	assert.Equal(t, http.StatusOK, status)
	status, _ = me.adminOne.Do(http.MethodPatch, "/api/v1/sources/"+me.srcC.ID, map[string]any{"name": "Renamed"})
	assert.Equal(t, http.StatusOK, status)
	// Nothing of portal 1001 was changed by all that.
	assert.Len(t, me.a.Activity(me.srcA.ID, ""), 1)
	var src apptest.Source
	me.a.JSON(http.MethodGet, "/api/v1/sources/"+me.srcA.ID, nil, http.StatusOK, &src)
	assert.Equal(t, me.srcA.WebhookURL, src.WebhookURL)
	assert.Equal(t, "connected", me.a.Portals()[0].Status)
	var ms struct{ Members []struct{ Role string } }
	me.a.JSON(http.MethodGet, "/api/v1/members", nil, http.StatusOK, &ms)
	assert.Len(t, ms.Members, 4)
	assert.Equal(t, "viewer", ms.Members[3].Role)
}
