package app_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// TestPortalIDsInBodiesAreAuthorized: workspace A cannot point its source,
// the source's default portal or a campaign route at workspace B's portal
// by naming it in a JSON body or a form field, through the API or the
// pages. The refusal reads the same as for a portal that does not exist
// (nothing tells A that B's portal is there), nothing is changed, and A's
// signups still go to A's portal only.
func TestPortalIDsInBodiesAreAuthorized(t *testing.T) {
	te := twoTenants(t)
	src := "/api/v1/sources/" + te.srcA.ID
	page := "/app/sources/" + te.srcA.ID
	const refusal = "that portal is not connected to this workspace"
	tests := []struct {
		name string
		try  func(t *testing.T, hub string) (int, string)
		want int
		msg  string
	}{
		{name: "API: move the source", want: http.StatusUnprocessableEntity, msg: refusal,
			try: func(t *testing.T, hub string) (int, string) {
				return te.api(t, http.MethodPatch, src, `{"hub_id":`+hub+`}`)
			}},
		{name: "API: rename and move in one call", want: http.StatusUnprocessableEntity, msg: refusal,
			try: func(t *testing.T, hub string) (int, string) {
				return te.api(t, http.MethodPatch, src, `{"name":"Renamed","hub_id":`+hub+`}`)
			}},
		{name: "API: route a campaign", want: http.StatusUnprocessableEntity, msg: "route 1: portal {hub} is not connected to this workspace",
			try: func(t *testing.T, hub string) (int, string) {
				return te.api(t, http.MethodPut, src+"/routes", `{"routes":[{"campaign_id":"c1","hub_id":`+hub+`,"mapping":{"fields":[{"from":"email","to":"email"}]}}]}`)
			}},
		{name: "page: default portal", want: http.StatusOK, msg: refusal,
			try: func(t *testing.T, hub string) (int, string) {
				return te.form(t, page+"/default-portal", url.Values{"hub_id": {hub}})
			}},
		{name: "page: campaign route", want: http.StatusUnprocessableEntity, msg: "route 1: portal {hub} is not connected to this workspace",
			try: func(t *testing.T, hub string) (int, string) {
				return te.form(t, page+"/routes", url.Values{"action": {"save"}, "campaign_id": {"c1"}, "hub_id": {hub}, "orig": {""}})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, hub := range []string{"2002", "9999"} { // B's portal, and one that does not exist
				status, body := tc.try(t, hub)
				assert.Equal(t, tc.want, status, "portal %s: %s", hub, body)
				assert.Contains(t, html.UnescapeString(body), strings.ReplaceAll(tc.msg, "{hub}", hub), "portal %s", hub)
				assert.NotContains(t, body, "globex", "nothing of workspace B shows")
			}
			var got struct {
				Name   string `json:"name"`
				HubID  int64  `json:"hub_id"`
				Routes []any  `json:"routes"`
			}
			te.a.JSON(http.MethodGet, src, nil, http.StatusOK, &got)
			assert.Equal(t, "Acme private source", got.Name, "nothing changed")
			assert.Equal(t, int64(1001), got.HubID)
			assert.Empty(t, got.Routes)
		})
	}
	status, _ := apptest.Post(t, te.srcA.WebhookURL, "application/json", []byte(`{"email":"after@acme.test","campaign_id":"c1"}`))
	require.Equal(t, http.StatusAccepted, status)
	te.env.Drain(context.Background())
	assert.Empty(t, te.env.Sim.Contacts(2002), "B's portal received nothing")
	_, ok := te.env.Sim.ContactByEmail(1001, "after@acme.test")
	assert.True(t, ok, "A's signups still go to A's portal")
}

// api sends a JSON request as workspace A's signed-in user.
func (te *tenantsEnv) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	status, raw := te.a.Do(method, path, json.RawMessage(body))
	return status, string(raw)
}

// form posts a form of a page as workspace A's signed-in user, following
// the redirect back to the page.
func (te *tenantsEnv) form(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	form.Set("csrf_token", te.a.CSRF())
	status, body, _ := send(t, te.a.Client, http.MethodPost, te.env.URL(path), nil, form)
	return status, body
}

// TestMemberPortalIDsInBodies: an admin of portal 1003 only cannot point
// their source, its default portal or a campaign route at portal 1001 of
// the same workspace by naming it in a body or a form; the refusal reads
// as for a portal that does not exist, and nothing changes.
func TestMemberPortalIDsInBodies(t *testing.T) {
	me := membersMatrix(t)
	one := me.adminOne
	src := "/api/v1/sources/" + me.srcC.ID
	page := "/app/sources/" + me.srcC.ID
	post := func(path string, form url.Values) (int, string) {
		form.Set("csrf_token", one.CSRF())
		status, body, _ := send(t, one.Client, http.MethodPost, me.env.URL(path), nil, form)
		return status, html.UnescapeString(body)
	}
	status, body := one.Do(http.MethodPatch, src, json.RawMessage(`{"hub_id":1001}`))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "that portal is not connected to this workspace")
	status, body = one.Do(http.MethodPut, src+"/routes", json.RawMessage(`{"routes":[{"campaign_id":"c1","hub_id":1001,"mapping":{"fields":[{"from":"email","to":"email"}]}}]}`))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), "route 1: portal 1001 is not connected to this workspace")
	status, text := post(page+"/default-portal", url.Values{"hub_id": {"1001"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, text, "that portal is not connected to this workspace")
	status, text = post(page+"/routes", url.Values{"action": {"save"}, "campaign_id": {"c1"}, "hub_id": {"1001"}, "orig": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, text, "route 1: portal 1001 is not connected to this workspace")
	assert.NotContains(t, text, "acme-secret-domain", "the routing page offers only their portals")

	var got struct {
		HubID  int64 `json:"hub_id"`
		Routes []any `json:"routes"`
	}
	one.JSON(http.MethodGet, src, nil, http.StatusOK, &got)
	assert.Equal(t, int64(1003), got.HubID)
	assert.Empty(t, got.Routes)
	// The owner may: the same body is the workspace's own portal for them.
	me.a.JSON(http.MethodPatch, src, map[string]any{"hub_id": 1001}, http.StatusOK, nil)
}
