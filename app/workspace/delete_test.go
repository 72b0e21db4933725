package workspace_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestDeletedPortalLeavesNoReference: once a portal is deleted, no source
// of the workspace refers to it (routes, past portals), and when another
// workspace installs that portal afterwards, the first workspace's source
// summary shows nothing of its lane (queued signups, lag, calls).
func TestDeletedPortalLeavesNoReference(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "client-a.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "ops@agency.test"}}},
		{HubID: 2002, Domain: "client-b.hubspot.test", Users: []hubspottest.User{
			{ID: 501, Email: "ops@agency.test"}, {ID: 602, Email: "admin@client-b.test"}}},
	}})
	ctx := context.Background()
	agency := env.Install(1001, 501)
	agency.Install(2002, 501)
	src := agency.CreateSource(1001, "Agency account")
	route := map[string]any{"campaign_id": "77", "hub_id": 2002, "mapping": map[string]any{
		"fields": []map[string]string{{"from": "email", "to": "email"}}, "on_existing": "update"}}
	agency.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/routes", map[string]any{"routes": []any{route}}, http.StatusOK, nil)
	apptest.PostMany(t, src.WebhookURL, [][]byte{[]byte(`{"email":"a@example.com","campaign_id":"77"}`)}, 1)
	// The route is removed: 2002 becomes one of the portals the source sent to.
	agency.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/routes", map[string]any{"routes": []any{}}, http.StatusOK, nil)
	saved, err := env.App.Store().Source(ctx, src.ID)
	require.NoError(t, err)
	require.Contains(t, saved.AllPortals(), int64(2002))

	agency.JSON(http.MethodDelete, "/api/v1/portals/2002", nil, http.StatusNoContent, nil)
	saved, err = env.App.Store().Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{1001}, saved.AllPortals(), "deleting the portal removes every reference to it")

	client := env.Install(2002, 602) // another workspace takes the portal
	theirs := client.CreateSource(2002, "Client")
	apptest.PostMany(t, theirs.WebhookURL, apptest.Signups("theirs", 5, ""), 1)
	// A source that still names the portal (as data written before this
	// fix could) must not show the new owner's lane either.
	saved.PastHubIDs = []int64{2002}
	_, err = env.App.Store().SaveSource(ctx, saved)
	require.NoError(t, err)

	var out struct {
		Summary struct {
			Lanes []struct {
				HubID  int64 `json:"hub_id"`
				Queued int64 `json:"queued"`
			} `json:"lanes"`
		} `json:"summary"`
	}
	agency.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/activity", nil, http.StatusOK, &out)
	require.Len(t, out.Summary.Lanes, 1)
	assert.Equal(t, int64(1001), out.Summary.Lanes[0].HubID, "only the workspace's own portal")
	_, page := apptest.Get(t, agency, env.URL("/app/sources/"+src.ID+"/activity"))
	assert.NotContains(t, page, "2002", "the page shows nothing of the other workspace's lane")
}

// TestDisconnectAndDelete: disconnect revokes the token at HubSpot and stops
// delivery but keeps configuration and signups; delete removes the portal's
// tokens, sources, activity and dead letters.
func TestDisconnectAndDelete(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname"), map[string]string{"lifecyclestage": "lead"}, "fill_empty")
	b.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/routes", map[string]any{"routes": []map[string]any{{"campaign_id": "spring", "hub_id": 1001,
		"mapping": map[string]any{"fields": apptest.Fields("email", "email"), "on_existing": "skip"}}}}, http.StatusOK, nil)
	configuration := func() string {
		_, raw := b.Do(http.MethodGet, "/api/v1/sources/"+src.ID, nil)
		return string(raw)
	}
	configured := configuration()
	require.Contains(t, configured, `"on_existing":"fill_empty"`)
	require.Contains(t, configured, `"campaign_id":"spring"`)
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("d", 3, ""), 1)
	env.Drain(context.Background())
	require.Len(t, env.Sim.Contacts(1001), 3)
	refreshBefore := env.Sim.TokenGrants(1001, "refresh_token")

	var p struct{ Status, StatusReason string }
	b.JSON(http.MethodPost, "/api/v1/portals/1001/disconnect", nil, http.StatusOK, &p)
	assert.Equal(t, "disconnected", p.Status)
	assert.Equal(t, 1, env.Sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "oauth.revoke" && r.Status == 204 }))
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("while-off", 2, ""), 1)
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 3, "no delivery while disconnected")
	assert.Equal(t, refreshBefore, env.Sim.TokenGrants(1001, "refresh_token"))
	assert.JSONEq(t, configured, configuration(), "disconnect keeps the source, its URL, mapping and routes")

	b.Install(1001, 501) // reconnect: configuration kept, queued signups delivered
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 5)
	assert.JSONEq(t, configured, configuration(), "so does the reconnect")
	c, _ := env.Sim.ContactByEmail(1001, "while-off0@example.com")
	assert.Equal(t, "lead", c.Properties["lifecyclestage"], "signups kept while disconnected go out with the kept mapping")

	b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/deals/choices", nil, http.StatusOK, nil) // the Deals tab's choices are kept a minute
	require.NotZero(t, env.Redis.Exists(context.Background(), "{p:1001}:deals:choices").Val())
	status, _ := b.Do(http.MethodDelete, "/api/v1/portals/1001", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = b.Do(http.MethodGet, "/api/v1/sources/"+src.ID, nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"x@example.com"}`))
	assert.Equal(t, http.StatusNotFound, status, "the webhook URL is gone")
	keys, err := env.Redis.Keys(context.Background(), "{p:1001}*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "{p:1001}:seen:"),
			"only dedupe markers (no personal data; they expire within 24 h) may remain: %s", k)
	}
}
