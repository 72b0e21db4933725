package pages_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// TestDealsTabSendsNothing: "Nothing" for a kind on the Deals tab is
// saved with the deal settings, said on the tab and the source's pages,
// and outlives removing the deal settings; "Nothing" for both is allowed
// and warned about. A viewer cannot change it.
func TestDealsTabSendsNothing(t *testing.T) {
	de := startDeals(t)
	form := goodSave()
	form.Set("referrer", "nothing")
	status, _, page := de.post(t, form)
	require.Equal(t, http.StatusSeeOther, status, page)
	src := de.load(t)
	assert.Equal(t, tenants.Send{Referrers: "nothing", Leads: "contacts"}, src.Send)
	require.NotNil(t, src.Deals)
	assert.Equal(t, []string{"lead"}, src.Deals.CreateFor)

	_, page = apptest.Get(t, de.b, de.base)
	page = html.UnescapeString(page)
	assert.Contains(t, page, "Deal settings saved: every new lead becomes a contact and a deal; referrers are not sent to HubSpot.")
	assert.Contains(t, page, `id="referrer-nothing" name="referrer" value="nothing" checked`)
	assert.NotContains(t, page, `id="referrer-contact" name="referrer" value="contact" checked`)
	assert.Contains(t, page, `id="lead-deal" name="lead" value="deal" checked`)
	assert.NotContains(t, page, `id="sends-nothing"`)
	_, overview := apptest.Get(t, de.b, de.env.URL("/app/sources/"+de.src.ID))
	assert.Contains(t, overview, "Referrers: not sent to HubSpot.")
	assert.NotContains(t, overview, "Leads: not sent")

	var got struct{ Send tenants.Send }
	de.b.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID, nil, http.StatusOK, &got)
	assert.Equal(t, tenants.Send{Referrers: "nothing", Leads: "contacts"}, got.Send)

	status, _, _ = apptest.PostForm(t, de.b, de.base+"/delete", apptest.WithCSRF(de.b.CSRF(), url.Values{}))
	require.Equal(t, http.StatusSeeOther, status)
	assert.Nil(t, de.load(t).Deals)
	assert.Equal(t, "nothing", de.load(t).Send.Referrers, "removing the deal settings keeps what is not sent")
	_, page = apptest.Get(t, de.b, de.base)
	assert.Contains(t, html.UnescapeString(page), "the other kind stays not sent")

	form.Set("lead", "nothing")
	status, _, page = de.post(t, form)
	require.Equal(t, http.StatusSeeOther, status, page)
	assert.Equal(t, tenants.Send{Referrers: "nothing", Leads: "nothing"}, de.load(t).Send)
	_, page = apptest.Get(t, de.b, de.base)
	page = html.UnescapeString(page)
	assert.Contains(t, page, "this source now sends nothing to HubSpot")
	assert.Contains(t, page, `id="sends-nothing"`)

	viewer := de.env.Install(1001, 704)
	de.b.JSON(http.MethodPatch, "/api/v1/members/704", map[string]any{"role": "viewer", "portals": "all"}, http.StatusOK, nil)
	status, _, _ = apptest.PostForm(t, viewer, de.base, apptest.WithCSRF(viewer.CSRF(), goodSave()))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, tenants.Send{Referrers: "nothing", Leads: "nothing"}, de.load(t).Send, "the viewer changed nothing")
}

// TestSendNothingAndDealsExcludeEachOther: a kind cannot both get a deal
// and be sent nothing; the API refuses either change with what to do.
func TestSendNothingAndDealsExcludeEachOther(t *testing.T) {
	de := startDeals(t)
	de.b.JSON(http.MethodPut, "/api/v1/sources/"+de.src.ID+"/deals", map[string]any{
		"create_for": []string{"referrer"}, "pipeline": "default", "stage": "appointmentscheduled", "name": "x"}, http.StatusOK, nil)
	status, body := de.b.Do(http.MethodPatch, "/api/v1/sources/"+de.src.ID, map[string]any{"send": map[string]string{"referrers": "nothing"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, message(t, body), `send.referrers: this source makes a deal for each of its referrers; take "referrer" out of the deal settings' create_for first`)
	assert.Equal(t, "contacts", de.load(t).Send.Of(false))

	de.b.JSON(http.MethodPatch, "/api/v1/sources/"+de.src.ID, map[string]any{"send": map[string]string{"leads": "nothing"}}, http.StatusOK, nil)
	status, body = de.b.Do(http.MethodPut, "/api/v1/sources/"+de.src.ID+"/deals", map[string]any{
		"create_for": []string{"lead"}, "pipeline": "default", "stage": "appointmentscheduled", "name": "x"})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, message(t, body), `create_for: "lead": this source sends no leads to HubSpot (send.leads is "nothing")`)
	assert.Equal(t, []string{"referrer"}, de.load(t).Deals.CreateFor)
}

// TestTestSignupOfAKindNotSent: a test signup of a kind the source sends
// nothing for is stored and says so, on the page and in the API.
func TestTestSignupOfAKindNotSent(t *testing.T) {
	de := startDeals(t) // its last signup is a lead
	de.b.JSON(http.MethodPatch, "/api/v1/sources/"+de.src.ID, map[string]any{"send": map[string]string{"leads": "nothing"}}, http.StatusOK, nil)
	var ev struct {
		Status, Note, Email string
		Lead                bool
	}
	de.b.JSON(http.MethodPost, "/api/v1/sources/"+de.src.ID+"/test-signup", map[string]string{"email": "me@acme.test"}, http.StatusAccepted, &ev)
	assert.True(t, ev.Lead)
	assert.Equal(t, "This source sends no leads to HubSpot: the test signup is stored and shows in the activity as not sent, and nothing is written in HubSpot.", ev.Note)

	status, loc, _ := apptest.PostForm(t, de.b, de.env.URL("/app/sources/"+de.src.ID+"/test-signup"),
		apptest.WithCSRF(de.b.CSRF(), url.Values{"email": {"me@acme.test"}}))
	require.Equal(t, http.StatusSeeOther, status)
	_, page := apptest.Get(t, de.b, de.env.URL(loc))
	assert.Contains(t, html.UnescapeString(page), "This source sends no leads to HubSpot: the test signup is stored")
	de.env.Drain(context.Background())
	_, page = apptest.Get(t, de.b, de.env.URL(loc))
	page = html.UnescapeString(page)
	assert.Contains(t, page, `<span class="status status-not_sent">not sent</span>`)
	assert.Contains(t, page, "Not sent: this source sends no leads to HubSpot. It is stored here only")
	assert.NotContains(t, page, `id="retry"`, "nothing failed: nothing to retry")
	assert.Contains(t, page, `id="choose-send"`, "the page leads to the setting")
	_, overview := apptest.Get(t, de.b, de.env.URL("/app/sources/"+de.src.ID))
	assert.Contains(t, overview, "signups not sent to HubSpot (of a kind the source sends nothing for)", "the source's chart counts them")
	assert.NotContains(t, page, `id="send-now"`, "it cannot be sent while leads are not")
	retryAPI := "/api/v1/sources/" + de.src.ID + "/events/" + path.Base(loc) + "/retry"
	status, body := de.b.Do(http.MethodPost, retryAPI, nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, message(t, body), "this source still sends no leads to HubSpot")
	_, page = apptest.Get(t, de.b, de.env.URL("/app/sources/"+de.src.ID+"/activity?status=not_sent"))
	assert.Contains(t, html.UnescapeString(page), "Not sent: this source sends no leads to HubSpot.")
	assert.Contains(t, page, `<option value="not_sent" selected>not sent</option>`)
	_, ok := de.env.Sim.ContactByEmail(1001, ev.Email)
	assert.False(t, ok)

	de.b.JSON(http.MethodPatch, "/api/v1/sources/"+de.src.ID, map[string]any{"send": map[string]string{"leads": "contacts"}}, http.StatusOK, nil)
	// Leads sent again, the signup stored meanwhile can be sent from its page.
	_, page = apptest.Get(t, de.b, de.env.URL(loc))
	require.Contains(t, page, `id="send-now"`)
	status, sent, _ := apptest.PostForm(t, de.b, de.env.URL(loc+"/retry"), apptest.WithCSRF(de.b.CSRF(), url.Values{}))
	require.Equal(t, http.StatusSeeOther, status)
	de.env.Drain(context.Background())
	_, page = apptest.Get(t, de.b, de.env.URL(sent))
	assert.Contains(t, html.UnescapeString(page), `<span class="status status-delivered">delivered</span>`)
	var stored struct{ Email string }
	de.b.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/events/"+path.Base(loc), nil, http.StatusOK, &stored)
	require.NotEmpty(t, stored.Email)
	_, ok = de.env.Sim.ContactByEmail(1001, stored.Email)
	assert.True(t, ok, "the signup not sent before is in HubSpot now")

	ev.Note = ""
	de.b.JSON(http.MethodPost, "/api/v1/sources/"+de.src.ID+"/test-signup", map[string]string{"email": "me@acme.test"}, http.StatusAccepted, &ev)
	assert.Empty(t, ev.Note, "a kind sent has no note")
}

// message is the error message of an API error body.
func message(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error struct{ Message string } }
	require.NoError(t, json.Unmarshal(body, &e))
	return e.Error.Message
}
