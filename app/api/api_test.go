package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// agencyPortals: one agency user with access to two client portals.
var agencyPortals = []hubspottest.Portal{
	{HubID: 1001, Domain: "client-a.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "ops@agency.test"}}},
	{HubID: 2002, Domain: "client-b.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "ops@agency.test"}}},
	{HubID: 3003, Domain: "other.hubspot.test", Users: []hubspottest.User{{ID: 909, Email: "someone@other.test"}}},
}

// TestAgencyCampaignRouting: one source sends campaign 77's signups to a
// second portal of the workspace with that route's own mapping; other
// campaigns go to the default portal.
func TestAgencyCampaignRouting(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: agencyPortals, Delivery: true})
	b := env.Install(1001, 501)
	b.Install(2002, 501) // the same user's second install joins the workspace
	require.Len(t, b.Portals(), 2)

	src := b.CreateSource(1001, "Agency account")
	route := map[string]any{"campaign_id": "77", "hub_id": 2002, "mapping": map[string]any{
		"fields":   []map[string]string{{"from": "email", "to": "email"}, {"from": "first_name", "to": "lastname"}},
		"defaults": map[string]string{"company": "Routed"}, "on_existing": "update"}}
	b.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/routes", map[string]any{"routes": []any{route}}, http.StatusOK, nil)

	status, body := b.Do(http.MethodPut, "/api/v1/sources/"+src.ID+"/routes", map[string]any{"routes": []any{
		map[string]any{"campaign_id": "88", "hub_id": 3003, "mapping": route["mapping"]}}})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "a portal of another workspace cannot be routed to")
	assert.Contains(t, string(body), "not connected to this workspace")

	apptest.PostMany(t, src.WebhookURL, [][]byte{
		[]byte(`{"email":"a@example.com","first_name":"Ann","campaign_id":"77"}`),
		[]byte(`{"email":"b@example.com","first_name":"Bob","campaign_id":"12"}`),
	}, 1)
	apptest.Eventually(t, 10*time.Second, "both delivered", func() bool {
		return len(env.Sim.Contacts(2002)) == 1 && len(env.Sim.Contacts(1001)) == 1
	})
	routed, _ := env.Sim.ContactByEmail(2002, "a@example.com")
	assert.Equal(t, "Ann", routed.Properties["lastname"], "the route's own mapping")
	assert.Equal(t, "Routed", routed.Properties["company"])
	def, _ := env.Sim.ContactByEmail(1001, "b@example.com")
	assert.Equal(t, "Bob", def.Properties["firstname"])
	assert.Len(t, b.Activity(src.ID, ""), 2, "the source's activity spans both portals")
}

// TestAPITokens: a workspace token scripts the API; it is shown once,
// stored hashed, cannot manage tokens, and stops working when revoked.
func TestAPITokens(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	var created struct {
		Token  struct{ ID, Prefix string } `json:"token"`
		Secret string                      `json:"secret"`
	}
	b.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "ci script"}, http.StatusCreated, &created)
	require.True(t, strings.HasPrefix(created.Secret, "rh_"))
	keys, _ := env.Redis.Keys(context.Background(), "*").Result()
	for _, k := range keys {
		v, _ := env.Redis.Dump(context.Background(), k).Result()
		assert.NotContains(t, k+v, created.Secret, "the secret is not stored")
	}
	call := func(method, path, token string, body string) (int, string) {
		req, _ := http.NewRequest(method, env.URL(path), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, string(out)
	}
	status, body := call(http.MethodPost, "/api/v1/portals/1001/sources", created.Secret, `{"name":"scripted"}`)
	assert.Equal(t, http.StatusCreated, status, "no CSRF token needed with an API token: %s", body)
	status, _ = call(http.MethodGet, "/api/v1/tokens", created.Secret, "")
	assert.Equal(t, http.StatusUnauthorized, status, "tokens are managed by signed-in users")
	status, _ = b.Do(http.MethodDelete, "/api/v1/tokens/"+created.Token.ID, nil)
	assert.Equal(t, http.StatusNoContent, status)
	status, _ = call(http.MethodGet, "/api/v1/portals", created.Secret, "")
	assert.Equal(t, http.StatusUnauthorized, status, "a revoked token stops working at once")
}

// TestOpenAPIDocumentsEveryRoute: every /api/v1 route is in openapi.json.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	resp, err := http.Get(env.URL("/api/v1/openapi.json"))
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	engine := env.App.Handler().(*gin.Engine)
	n := 0
	for _, r := range engine.Routes() {
		path, ok := strings.CutPrefix(r.Path, "/api/v1")
		if !ok || path == "/openapi.json" {
			continue
		}
		n++
		oaPath := openAPIPath(path)
		ops, ok := doc.Paths[oaPath]
		if assert.True(t, ok, "%s %s is documented", r.Method, oaPath) {
			assert.Contains(t, ops, strings.ToLower(r.Method), "%s %s is documented", r.Method, oaPath)
		}
	}
	assert.Greater(t, n, 20)
}

// openAPIPath turns gin's ":id" parameters into OpenAPI's "{id}".
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestActivitySummary: the activity API gives a source's counts and its
// portals' lanes: queue depth, lag, HubSpot calls, 429s, dead letters.
func TestActivitySummary(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, [][]byte{[]byte(`{"email":"ok@example.com"}`), []byte(`{"email":"bad@"}`)}, 1)
	var out struct {
		Summary struct {
			DeliveredToday int64 `json:"delivered_today"`
			FailedToday    int64 `json:"failed_today"`
			DeadLetters    int64 `json:"dead_letters"`
			Lanes          []struct {
				HubID      int64   `json:"hub_id"`
				Queued     int64   `json:"queued"`
				LagSeconds float64 `json:"lag_seconds"`
				Calls      int64   `json:"hubspot_calls_today"`
				Limited    int64   `json:"hubspot_429_today"`
			} `json:"lanes"`
		} `json:"summary"`
	}
	b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/activity", nil, http.StatusOK, &out)
	require.Len(t, out.Summary.Lanes, 1)
	assert.Equal(t, int64(2), out.Summary.Lanes[0].Queued)
	env.Drain(context.Background())
	b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/activity", nil, http.StatusOK, &out)
	assert.Equal(t, int64(1), out.Summary.DeliveredToday)
	assert.Equal(t, int64(1), out.Summary.FailedToday)
	assert.Equal(t, int64(1), out.Summary.DeadLetters)
	assert.Zero(t, out.Summary.Lanes[0].Queued)
	assert.GreaterOrEqual(t, out.Summary.Lanes[0].Calls, int64(2), "the failed batch and its split")
	assert.Zero(t, out.Summary.Lanes[0].Limited)
}
