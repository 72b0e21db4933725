package leads_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

type sourceJSON struct {
	LeadMapping *struct {
		Fields     []apptest.Field   `json:"fields"`
		Defaults   map[string]string `json:"defaults"`
		OnExisting string            `json:"on_existing"`
	} `json:"lead_mapping"`
	LeadRule *struct {
		Field  string   `json:"field"`
		Values []string `json:"values"`
	} `json:"lead_rule"`
}

// TestLeadMapping: until a lead mapping is saved, leads are delivered with
// the referrer mapping (nothing is held) and still linked; once saved,
// leads get their own fields, defaults and duplicate policy while
// referrers keep theirs. Removing it returns to the referrer mapping.
func TestLeadMapping(t *testing.T) {
	w := newWorld(t)
	w.env.Sim.AddProperty(hub, hubspottest.Property{Name: "rf_referrer_email", Label: "Referrer email", Type: "string", FieldType: "text", GroupName: "contactinformation"})
	var got sourceJSON
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID, nil, http.StatusOK, &got)
	assert.Nil(t, got.LeadMapping, "no lead mapping at first")
	assert.Nil(t, got.LeadRule, "the built-in lead rule at first")

	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.send(lead(200, 100, "before@example.com", "B1", "ref@example.com", "REF1"))
	w.drain()
	before := w.contact("before@example.com")
	assert.Equal(t, "B1", before.Properties["rf_referral_code"], "delivered with the referrer mapping")
	assert.Len(t, w.referredBy(before.ID)[before.ID], 1, "and linked")

	w.b.JSON(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/lead-mapping", map[string]any{
		"fields":      apptest.Fields("email", "email", "referrer_email", "rf_referrer_email"),
		"defaults":    map[string]string{"lifecyclestage": "lead"},
		"on_existing": "skip",
	}, http.StatusOK, &got)
	require.NotNil(t, got.LeadMapping)
	assert.Equal(t, "skip", got.LeadMapping.OnExisting)
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID, nil, http.StatusOK, &got)
	require.NotNil(t, got.LeadMapping, "the source JSON shows lead_mapping")

	w.send(lead(201, 100, "after@example.com", "A1", "ref@example.com", "REF1"))
	w.send(referrer(300, "ref2@example.com", "REF2", ""))
	w.drain()
	after := w.contact("after@example.com")
	assert.Equal(t, "ref@example.com", after.Properties["rf_referrer_email"])
	assert.Equal(t, "lead", after.Properties["lifecyclestage"])
	assert.Empty(t, after.Properties["rf_referral_code"], "the lead mapping does not map the code")
	assert.Empty(t, after.Properties["firstname"])
	ref2 := w.contact("ref2@example.com")
	assert.Equal(t, "REF2", ref2.Properties["rf_referral_code"], "referrers keep their mapping")
	assert.Empty(t, ref2.Properties["lifecyclestage"])
	n, _ := w.counts("ref@example.com")
	assert.Equal(t, "2", n)

	status, body := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/lead-mapping", map[string]any{
		"fields": apptest.Fields("first_name", "firstname"), "defaults": map[string]string{}, "on_existing": "update"})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "email")

	w.b.JSON(http.MethodDelete, "/api/v1/sources/"+w.src.ID+"/lead-mapping", nil, http.StatusOK, &got)
	assert.Nil(t, got.LeadMapping)
}

// TestLeadRule: a source whose Referral Factory webhook renamed its keys
// tells leads by its own rule (field and values); a bad rule is refused.
func TestLeadRule(t *testing.T) {
	w := newWorld(t)
	var got sourceJSON
	w.b.JSON(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/lead-rule", map[string]any{"field": "kind", "values": []string{"Invitee", " friend "}}, http.StatusOK, &got)
	require.NotNil(t, got.LeadRule)
	assert.Equal(t, []string{"Invitee", "friend"}, got.LeadRule.Values)
	w.b.JSON(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/lead-mapping", map[string]any{
		"fields": apptest.Fields("email", "email"), "defaults": map[string]string{"lifecyclestage": "lead"}, "on_existing": "update"}, http.StatusOK, nil)

	w.send(`{"email":"host@example.com","code":"H1","kind":"member"}`)
	w.send(`{"email":"guest@example.com","code":"G1","kind":"INVITEE","ref":"H1","referrer_code":"H1"}`)
	// type person_invited no longer decides for this source.
	w.send(`{"email":"typed@example.com","type":"person_invited"}`)
	w.drain()
	assert.Equal(t, "lead", w.contact("guest@example.com").Properties["lifecyclestage"])
	assert.Empty(t, w.contact("host@example.com").Properties["lifecyclestage"])
	assert.Empty(t, w.contact("typed@example.com").Properties["lifecyclestage"])
	guest, host := w.contact("guest@example.com"), w.contact("host@example.com")
	assert.Equal(t, []string{host.ID}, w.referredBy(guest.ID)[guest.ID])

	status, body := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/lead-rule", map[string]any{"field": "", "values": []string{}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "lead rule")
	w.b.JSON(http.MethodDelete, "/api/v1/sources/"+w.src.ID+"/lead-rule", nil, http.StatusOK, &got)
	assert.Nil(t, got.LeadRule)
}
