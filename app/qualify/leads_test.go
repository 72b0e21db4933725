package qualify_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestDeliveredLeadIsQualifiedEndToEnd: Referral Factory sends a referrer
// and a lead to refhub (app/leads records the lead); the lead's lifecycle
// stage set to customer in HubSpot qualifies it at Referral Factory with
// its code, once.
func TestDeliveredLeadIsQualifiedEndToEnd(t *testing.T) {
	ctx := context.Background()
	clock := apptest.NewClock()
	rf := rftest.NewTestServer(t, rftest.Options{Clock: clock.Now, AllowHTTPWebhooks: true})
	env := apptest.Start(t, apptest.Options{Clock: clock, Configure: func(c *app.Config) { c.RFBase = rf.URL() }})
	env.ConfigureHubSpotWebhooks()
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")

	acct := rf.AddAccount()
	camp, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	for _, ev := range []rftest.Event{rftest.EventReferrerJoins, rftest.EventLeadCreated} {
		_, err := rf.AddWebhook(camp.ID, rftest.Webhook{URL: src.WebhookURL, Event: ev})
		require.NoError(t, err)
	}
	referrer, err := rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Rita", Email: "rita@example.com"})
	require.NoError(t, err)
	lead, err := rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Leo", Email: "leo@example.com", ReferrerID: referrer.ID})
	require.NoError(t, err)
	rf.Wait()
	env.Drain(ctx)
	contact, ok := env.Sim.ContactByEmail(hub, "leo@example.com")
	require.True(t, ok, "the lead is a contact")

	status, body := b.Do(http.MethodPut, "/api/v1/sources/"+src.ID+"/qualification", map[string]any{
		"rf_inbound_url": rf.InboundURL(acct.ID), "when": map[string]string{"object": "contact", "property": "lifecyclestage", "value": "customer"}})
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, env.Sim.SetContactProperty(hub, contact.ID, "lifecyclestage", "customer"))
	env.DeliverHubSpotWebhooks(hubspottest.Delivery{Copies: 2})
	_, err = env.App.HubSpotInbox().Drain(ctx)
	require.NoError(t, err)
	for {
		n, err := env.App.Qualifier().Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	calls := rf.Count(func(r rftest.Request) bool { return r.Endpoint == "webhook.qualify" })
	assert.Equal(t, 1, calls)
	u, _ := rf.User(lead.ID)
	assert.False(t, u.QualifiedAt.IsZero(), "Referral Factory qualified the lead by its code")
	r, _ := rf.User(referrer.ID)
	assert.True(t, r.QualifiedAt.IsZero(), "not the referrer")
}
