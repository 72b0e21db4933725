package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
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
	_, page := get(t, agency, env.URL("/app/sources/"+src.ID+"/activity"))
	assert.NotContains(t, page, "2002", "the page shows nothing of the other workspace's lane")
}

// TestRefusedInstallRevokesItsToken: an install refused because the portal
// belongs to another workspace leaves no live token behind at HubSpot; the
// owner's token keeps working.
func TestRefusedInstallRevokesItsToken(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "agency@agency.test"}, {ID: 777, Email: "client@acme.test"}}},
	}})
	ctx := context.Background()
	env.Install(1001, 501)
	kept, err := env.App.Tokens().RefreshToken(ctx, 1001)
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
		if !strings.HasPrefix(tok, "na1-") || tok == kept {
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
