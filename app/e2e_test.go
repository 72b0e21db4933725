package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestInstallReceiveDeliver drives the whole flow as a user would: install
// through the simulator, create a source, map fields, send Referral
// Factory-shaped signups as JSON, form and GET, and find the contacts in
// HubSpot with the mapped fields and defaults, and the activity saying so.
func TestInstallReceiveDeliver(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Delivery: true})
	env.Sim.AddProperty(1001, hubspottest.Property{Name: "referral_link", Label: "Referral link", Type: "string",
		FieldType: "text", GroupName: "contactinformation"})
	b := env.Install(1001, 501)

	portals := b.Portals()
	require.Len(t, portals, 1)
	assert.Equal(t, int64(1001), portals[0].HubID)
	assert.Equal(t, "acme.hubspot.test", portals[0].Domain)
	assert.Equal(t, "connected", portals[0].Status)

	src := b.CreateSource(1001, "Spring campaign")
	assert.True(t, strings.HasPrefix(src.WebhookURL, env.URL("/hooks/referral-factory/")), src.WebhookURL)
	require.Len(t, src.Mapping.Fields, 2, "a new source starts with email and first name mapped")
	assert.Equal(t, "update", src.Mapping.OnExisting)

	b.JSON(http.MethodPut, "/api/v1/sources/"+src.ID+"/mapping", map[string]any{
		"fields": []map[string]string{{"from": "email", "to": "email"}, {"from": "first_name", "to": "firstname"},
			{"from": "url", "to": "referral_link"}, {"from": "meta.Company", "to": "company"}},
		"defaults":    map[string]string{"lifecyclestage": "lead"},
		"on_existing": "update",
	}, http.StatusOK, nil)

	status, body := apptest.Post(t, src.WebhookURL, "application/json",
		[]byte(`{"email":"Jane.Doe@Example.com","first_name":"Jane","url":"https://rf.example/r/JANE","meta":[{"field":"Company","value":"Acme Ltd"}]}`))
	require.Equal(t, http.StatusAccepted, status, string(body))
	status, body = apptest.Post(t, src.WebhookURL, "application/x-www-form-urlencoded",
		[]byte(url.Values{"email": {"form@example.com"}, "first_name": {"Formy"}, "meta[Company]": {"Form Co"}}.Encode()))
	require.Equal(t, http.StatusAccepted, status, string(body))
	resp, err := http.Get(src.WebhookURL + "?email=get%40example.com&first_name=Getty&url=https%3A%2F%2Frf.example%2Fr%2FGET")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	apptest.Eventually(t, 10*time.Second, "three contacts in HubSpot", func() bool { return len(env.Sim.Contacts(1001)) == 3 })
	jane, ok := env.Sim.ContactByEmail(1001, "jane.doe@example.com")
	require.True(t, ok)
	assert.Equal(t, "Jane", jane.Properties["firstname"])
	assert.Equal(t, "https://rf.example/r/JANE", jane.Properties["referral_link"])
	assert.Equal(t, "Acme Ltd", jane.Properties["company"])
	assert.Equal(t, "lead", jane.Properties["lifecyclestage"], "default value")
	form, _ := env.Sim.ContactByEmail(1001, "form@example.com")
	assert.Equal(t, "Form Co", form.Properties["company"])
	get, _ := env.Sim.ContactByEmail(1001, "get@example.com")
	assert.Equal(t, "Getty", get.Properties["firstname"])
	assert.Equal(t, "https://rf.example/r/GET", get.Properties["referral_link"])

	apptest.Eventually(t, 5*time.Second, "activity to say delivered", func() bool {
		evs := b.Activity(src.ID, "?status=delivered")
		return len(evs) == 3
	})
	evs := b.Activity(src.ID, "?email=jane.doe")
	require.Len(t, evs, 1)
	assert.Equal(t, "delivered", evs[0].Status)
	assert.Equal(t, "created", evs[0].Outcome)
	assert.Equal(t, jane.ID, evs[0].ContactID)
	for _, f := range evs[0].Payload {
		assert.NotContains(t, f.Value, "Jane.Doe@", "emails are masked in payload views")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
