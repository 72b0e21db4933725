package qualify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/tenants"
)

func (w *world) putDealRule(t *testing.T, stage string) qualify.View {
	t.Helper()
	var v qualify.View
	w.b.JSON(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/qualification", map[string]any{
		"rf_inbound_url": w.inbound, "when": map[string]string{"object": "deal", "property": "dealstage", "value": stage}},
		http.StatusOK, &v)
	return v
}

func TestLeadsDealReachingTheStageIsQualifiedOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.putDealRule(t, "closedwon")
	deal := w.env.Sim.SeedDeal(hub, map[string]string{"dealname": "Leo's first order", "pipeline": "default", "dealstage": "appointmentscheduled"})
	// The lead's contact is associated with the deal, as a salesperson does.
	hs := hubspot.New(hubspot.Config{APIBase: w.env.Sim.URL(), ClientID: w.env.Config.ClientID, ClientSecret: w.env.Config.ClientSecret})
	_, err := hs.Portal(hub, w.env.App.Tokens().Func(hub), nil).AssociateDefault(ctx, hubspot.ObjectContacts, hubspot.ObjectDeals,
		[]hubspot.ObjectPair{{FromID: w.contact, ToID: deal.ID}})
	require.NoError(t, err)
	assocReads := func() int {
		return w.env.Sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "associations.batch.read" })
	}

	require.NoError(t, w.env.Sim.MoveDealStage(hub, deal.ID, "qualifiedtobuy"))
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	assert.Zero(t, assocReads(), "a stage no rule watches costs no HubSpot call")

	require.NoError(t, w.env.Sim.MoveDealStage(hub, deal.ID, "closedwon"))
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{Copies: 2})
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls(), "the deal's lead is qualified once")
	assert.Equal(t, 1, assocReads(), "the deal's contacts read once")
	u, _ := w.rf.User(w.lead.ID)
	assert.False(t, u.QualifiedAt.IsZero())
	acts := qualification(w.b.Activity(w.src.ID, ""))
	require.Len(t, acts, 1)
	assert.Equal(t, "qualified", acts[0].Outcome)
}

func TestPortalInstalledBeforeDealAccessIsAskedToReconnect(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// The portal as stored by a refhub that did not ask for deals yet.
	key := tenants.PortalKey(hub, "")
	key = key[:len(key)-1]
	raw, err := w.env.Redis.Get(ctx, key).Bytes()
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal(raw, &p))
	var old []string
	for _, s := range p["scopes"].([]any) {
		if s != qualify.DealScope {
			old = append(old, s.(string))
		}
	}
	p["scopes"] = old
	raw, _ = json.Marshal(p)
	require.NoError(t, w.env.Redis.Set(ctx, key, raw, 0).Err())

	v := w.putDealRule(t, "closedwon")
	assert.True(t, v.ReconnectNeeded, "the deal rule waits for a reconnect")
	var ch qualify.Choices
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID+"/qualification/choices", nil, http.StatusOK, &ch)
	assert.True(t, ch.ReconnectNeeded)
	assert.Empty(t, ch.Pipelines, "no deal call without deal access")
	assert.NotEmpty(t, ch.Contact, "contact rules still work")
	status, body := w.b.Do(http.MethodGet, "/app/sources/"+w.src.ID+"/qualification", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), "Reconnect to enable qualification")

	// Everything else keeps working: a contact rule qualifies.
	w.putRule(t, "customer", http.StatusOK)
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls())
}
