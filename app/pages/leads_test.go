package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// TestLeadsTab: the Leads tab says leads use the referrer mapping until a
// lead mapping is saved, saves one without touching the referrer mapping,
// removes it again, and shows a bad lead rule's problems instead of saving
// it.
func TestLeadsTab(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	base := env.URL("/app/sources/" + src.ID)
	load := func() tenants.Source {
		s, err := env.App.Store().Source(context.Background(), src.ID)
		require.NoError(t, err)
		return s
	}

	status, page := apptest.Get(t, b, base)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "No lead mapping yet")
	status, page = apptest.Get(t, b, base+"/mapping?kind=leads")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `id="leads-fallback"`)
	assert.Contains(t, page, `name="kind" value="leads"`)

	status, loc, body := apptest.PostForm(t, b, base+"/mapping", apptest.WithCSRF(b.CSRF(), url.Values{
		"kind": {"leads"}, "action": {"save"}, "from": {"email", "referrer_email"}, "to": {"email", "company"},
		"default_property": {"lifecyclestage"}, "default_value": {"lead"}, "on_existing": {"fill_empty"}}))
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, "/app/sources/"+src.ID+"/mapping?kind=leads", loc)
	s := load()
	require.NotNil(t, s.LeadMapping)
	assert.Equal(t, tenants.FillEmpty, s.LeadMapping.OnExisting)
	assert.Contains(t, s.LeadMapping.Fields, tenants.FieldMap{From: "referrer_email", To: "company"})
	assert.Equal(t, tenants.DefaultMapping(), s.Mapping, "the referrer mapping is untouched")
	_, page = apptest.Get(t, b, base)
	assert.Contains(t, page, "delivered with their own <a href=\"/app/sources/"+src.ID+"/mapping?kind=leads\">lead mapping</a>")

	status, _, body = apptest.PostForm(t, b, base+"/mapping", apptest.WithCSRF(b.CSRF(), url.Values{
		"kind": {"leads"}, "action": {"save"}, "from": {"first_name"}, "to": {"firstname"}, "on_existing": {"update"}}))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "contacts are matched by email")
	assert.NotNil(t, load().LeadMapping, "a refused lead mapping keeps the saved one")

	status, _, body = apptest.PostForm(t, b, base+"/lead-rule", apptest.WithCSRF(b.CSRF(), url.Values{"rule_field": {"kind"}, "rule_values": {" , "}}))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "The rule was not saved")
	assert.Contains(t, body, "give at least one value")
	assert.Nil(t, load().LeadRule)

	status, _, body = apptest.PostForm(t, b, base+"/mapping", apptest.WithCSRF(b.CSRF(), url.Values{"kind": {"leads"}, "action": {"remove-lead-mapping"}}))
	require.Equal(t, http.StatusSeeOther, status, body)
	assert.Nil(t, load().LeadMapping)
}
