package qualify_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestReferralLoop is the whole loop as a customer sets it up: Referral
// Factory sends a referrer and three leads to one source (two webhooks),
// refhub makes four contacts, links each lead to the referrer with the
// label pair and writes the referrer's counts 3 / 0; a lead set to customer
// in HubSpot, its event delivered three times, qualifies it at Referral
// Factory once with its code, and the referrer's counts become 3 / 1 — also
// after Referral Factory reports the qualification through its own webhook.
func TestReferralLoop(t *testing.T) {
	ctx := context.Background()
	clock := apptest.NewClock()
	rf := rftest.NewTestServer(t, rftest.Options{Clock: clock.Now, AllowHTTPWebhooks: true})
	env := apptest.Start(t, apptest.Options{Clock: clock, Configure: func(c *app.Config) { c.RFBase = rf.URL() }})
	env.ConfigureHubSpotWebhooks()
	for _, p := range []string{"rf_referral_count", "rf_converted_referral_count"} {
		env.Sim.AddProperty(hub, hubspottest.Property{Name: p, Label: p, Type: "number", FieldType: "number", GroupName: "contactinformation"})
	}
	env.Sim.AddProperty(hub, hubspottest.Property{Name: "rf_referral_code", Label: "code", Type: "string", FieldType: "text", GroupName: "contactinformation"})
	b := env.Install(hub, 501)
	src := b.CreateSource(hub, "Spring")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "code", "rf_referral_code",
		"referrals_count", "rf_referral_count", "converted_referrals_count", "rf_converted_referral_count"), nil, "update")

	acct := rf.AddAccount()
	camp, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	for _, ev := range []rftest.Event{rftest.EventReferrerJoins, rftest.EventLeadCreated, rftest.EventLeadQualified} {
		_, err := rf.AddWebhook(camp.ID, rftest.Webhook{URL: src.WebhookURL, Event: ev})
		require.NoError(t, err)
	}
	deliver := func() {
		t.Helper()
		rf.Wait()
		env.DeliverFor(ctx, 2*time.Minute)
	}
	referrer, err := rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Rita", Email: "rita@example.com"})
	require.NoError(t, err)
	deliver()
	var leadIDs []int64
	for _, email := range []string{"leo@example.com", "lia@example.com", "lou@example.com"} {
		u, err := rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Lead", Email: email, ReferrerID: referrer.ID})
		require.NoError(t, err)
		leadIDs = append(leadIDs, u.ID)
	}
	deliver()

	require.Len(t, env.Sim.Contacts(hub), 4, "a contact for the referrer and each lead")
	rita, ok := env.Sim.ContactByEmail(hub, "rita@example.com")
	require.True(t, ok)
	portal := env.ThirdParty(hub, 501, "crm.objects.contacts.read", "crm.objects.contacts.write")
	pair, err := portal.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, leads.Label)
	require.NoError(t, err)
	var leadContacts []string
	for _, email := range []string{"leo@example.com", "lia@example.com", "lou@example.com"} {
		c, ok := env.Sim.ContactByEmail(hub, email)
		require.True(t, ok, email)
		leadContacts = append(leadContacts, c.ID)
	}
	links, err := portal.ReadAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, leadContacts)
	require.NoError(t, err)
	for _, id := range leadContacts {
		var referredBy []string
		for _, o := range links[id] {
			if o.HasType(pair.Forward.Category, pair.Forward.TypeID) {
				referredBy = append(referredBy, o.ID)
			}
		}
		assert.Equal(t, []string{rita.ID}, referredBy, "lead contact %s is linked to its referrer as Referred by", id)
	}
	counts := func() (string, string) {
		c, _ := env.Sim.ContactByEmail(hub, "rita@example.com")
		return c.Properties["rf_referral_count"], c.Properties["rf_converted_referral_count"]
	}
	n, q := counts()
	assert.Equal(t, "3", n, "three leads")
	assert.Equal(t, "0", q, "none qualified yet")

	status, body := b.Do(http.MethodPut, "/api/v1/sources/"+src.ID+"/qualification", map[string]any{
		"rf_inbound_url": rf.InboundURL(acct.ID), "when": map[string]string{"object": "contact", "property": "lifecyclestage", "value": "customer"}})
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, env.Sim.SetContactProperty(hub, leadContacts[1], "lifecyclestage", "customer"))
	env.DeliverHubSpotWebhooks(hubspottest.Delivery{Copies: 3})
	_, err = env.App.HubSpotInbox().Drain(ctx)
	require.NoError(t, err)
	for {
		n, err := env.App.Qualifier().Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	assert.Equal(t, 1, rf.Count(func(r rftest.Request) bool { return r.Endpoint == "webhook.qualify" }),
		"one qualify call however often HubSpot sends the event")
	for i, id := range leadIDs {
		u, _ := rf.User(id)
		assert.Equal(t, i == 1, !u.QualifiedAt.IsZero(), "lead %d qualified at Referral Factory: only the one set to customer", i)
	}

	deliver() // Referral Factory's own "A lead is qualified" webhook, and the counts refhub writes
	n, q = counts()
	assert.Equal(t, "3", n)
	assert.Equal(t, "1", q, "one qualified lead, counted once although refhub and Referral Factory both reported it")
}
