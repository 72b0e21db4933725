package workspace_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestRecommendedPropertiesAndTestSignup: one click creates the Referral
// Factory group and properties (skipping existing ones) and maps them; a
// test signup then goes through the real pipeline to a plus address.
func TestRecommendedPropertiesAndTestSignup(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Delivery: true})
	env.Sim.AddProperty(1001, hubspottest.Property{Name: "rf_referral_code", Label: "Code (existing)", Type: "string",
		FieldType: "text", GroupName: "contactinformation"})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	var res struct {
		Created []string `json:"created"`
		Existed []string `json:"existed"`
		Mapping struct {
			Fields []apptest.Field `json:"fields"`
		} `json:"mapping"`
	}
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/recommended-properties", nil, http.StatusOK, &res)
	assert.ElementsMatch(t, []string{"rf_referral_link", "rf_referral_count", "rf_converted_referral_count",
		"rf_campaign_name", "rf_referral_source", "rf_signed_up_at"}, res.Created)
	assert.Equal(t, []string{"rf_referral_code"}, res.Existed)
	assert.Contains(t, res.Mapping.Fields, apptest.Field{From: "url", To: "rf_referral_link"})
	assert.Contains(t, res.Mapping.Fields, apptest.Field{From: "code", To: "rf_referral_code"})
	names := map[string]string{}
	for _, p := range env.Sim.Properties(1001) {
		names[p.Name] = p.GroupName
	}
	assert.Equal(t, "referral_factory", names["rf_referral_count"])
	// Twice is harmless.
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/recommended-properties", nil, http.StatusOK, &res)
	assert.Empty(t, res.Created)

	var props struct {
		Properties []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Writable bool   `json:"writable"`
		} `json:"properties"`
	}
	b.JSON(http.MethodGet, "/api/v1/portals/1001/properties", nil, http.StatusOK, &props)
	found := map[string]bool{}
	for _, p := range props.Properties {
		found[p.Name] = p.Writable
	}
	assert.True(t, found["rf_referral_count"])
	assert.False(t, found["hs_object_id"], "read-only properties are marked")

	var ev apptest.Event
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/test-signup", nil, http.StatusAccepted, &ev)
	assert.Equal(t, "admin+rf-test-1@acme.test", ev.Email, "plus-addressed from the signed-in admin")
	var got struct {
		apptest.Event
		ContactURL string `json:"contact_url"`
	}
	apptest.Eventually(t, 10*time.Second, "the test signup delivered", func() bool {
		b.JSON(http.MethodGet, "/api/v1/sources/"+src.ID+"/events/"+ev.ID, nil, http.StatusOK, &got)
		return got.Status == "delivered"
	})
	assert.Equal(t, "created", got.Outcome)
	assert.Equal(t, env.Sim.URL()+"/contacts/1001/record/0-1/"+got.ContactID, got.ContactURL)
	c, ok := env.Sim.ContactByEmail(1001, "admin+rf-test-1@acme.test")
	require.True(t, ok)
	assert.Equal(t, "Test campaign", c.Properties["rf_campaign_name"])
	assert.Equal(t, "2026-01-01", c.Properties["rf_signed_up_at"], "dates are sent as HubSpot dates")
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/test-signup", map[string]string{"email": "qa+x@shop.test"}, http.StatusAccepted, &ev)
	assert.Equal(t, "qa+rf-test-2@shop.test", ev.Email)
}

// TestRetryRefusedSignupAfterFixingTheMapping: a signup refused for want
// of an email is sent again with the corrected mapping.
func TestRetryRefusedSignupAfterFixingTheMapping(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Delivery: true})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	status, _ := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email_address":"late@example.com","first_name":"Late"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	rejected := b.Activity(src.ID, "?status=rejected")
	require.Len(t, rejected, 1)
	status, body := b.Do(http.MethodPost, "/api/v1/sources/"+src.ID+"/events/"+rejected[0].ID+"/retry", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, status, "still refused before the fix")
	assert.Contains(t, string(body), "email_address")

	b.SetMapping(src.ID, apptest.Fields("email_address", "email", "first_name", "firstname"), nil, "update")
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/events/"+rejected[0].ID+"/retry", nil, http.StatusAccepted, nil)
	apptest.Eventually(t, 10*time.Second, "delivered", func() bool {
		_, ok := env.Sim.ContactByEmail(1001, "late@example.com")
		return ok
	})
}
