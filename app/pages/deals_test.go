package pages_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// dealsSignup is a lead as Referral Factory sends it, with a budget typed
// as words in a custom form field.
const dealsSignup = `{"type":"person_invited","first_name":"Ada","email":"ada@example.com","code":"ADA1",
"campaign_name":"Spring","meta":[{"field":"Budget","value":"about 5k"}]}`

// dealsEnv is a source of portal 1001 with a lead received and a second
// deal pipeline in the portal.
type dealsEnv struct {
	env  *apptest.Env
	b    *apptest.Browser
	src  apptest.Source
	base string
}

func startDeals(t *testing.T) *dealsEnv {
	t.Helper()
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{
		{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}, {ID: 704, Email: "viewer@acme.test"}}},
		{HubID: 2002, Domain: "globex.hubspot.test", Users: []hubspottest.User{{ID: 602, Email: "admin@globex.test"}}},
	}})
	de := &dealsEnv{env: env, b: env.Install(1001, 501)}
	de.src = de.b.CreateSource(1001, "Spring program")
	de.base = env.URL("/app/sources/" + de.src.ID + "/deals")
	env.Sim.AddPipeline(1001, hubspottest.Pipeline{ID: "partners", Label: "Partner deals", Stages: []hubspottest.PipelineStage{
		{ID: "p-new", Label: "New referral"}, {ID: "p-won", Label: "Won", Closed: true}}})
	status, body := apptest.Post(t, de.src.WebhookURL, "application/json", []byte(dealsSignup))
	require.Equal(t, http.StatusAccepted, status, string(body))
	return de
}

func (de *dealsEnv) load(t *testing.T) tenants.Source {
	t.Helper()
	s, err := de.env.App.Store().Source(context.Background(), de.src.ID)
	require.NoError(t, err)
	return s
}

// post submits the Deals tab's form.
func (de *dealsEnv) post(t *testing.T, form url.Values) (int, string, string) {
	t.Helper()
	return apptest.PostForm(t, de.b, de.base, apptest.WithCSRF(de.b.CSRF(), form))
}

// goodSave is a Deals form the simulated portal accepts.
func goodSave() url.Values {
	return url.Values{"action": {"save"}, "lead": {"deal"}, "pipeline": {"default"}, "stage": {"appointmentscheduled"}, "name": {"x"}}
}

// saveRefused submits goodSave and checks it is refused, saying want,
// and saves nothing.
func (de *dealsEnv) saveRefused(t *testing.T, want string) {
	t.Helper()
	status, _, page := de.post(t, goodSave())
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, page, want)
	assert.Nil(t, de.load(t).Deals)
}

// propertyOptions are the deal properties a page's field selects offer.
func propertyOptions(page string) []string {
	sel := page[strings.Index(page, `id="to-0"`):]
	sel = sel[:strings.Index(sel, "</select>")]
	var out []string
	for _, part := range strings.Split(sel, `<option value="`)[1:] {
		if v := part[:strings.Index(part, `"`)]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

// TestDealsTabOffersThePortalsPipelinesAndWritableProperties: the tab
// lists the portal's pipelines with their stages grouped under them, and
// only deal properties refhub may write, and previews the deal name from
// the last signup received.
func TestDealsTabOffersThePortalsPipelinesAndWritableProperties(t *testing.T) {
	de := startDeals(t)
	status, page := apptest.Get(t, de.b, de.base)
	require.Equal(t, http.StatusOK, status, page)
	page = html.UnescapeString(page)
	assert.Contains(t, page, `aria-current="page">Deals</a>`)
	assert.Contains(t, page, "No deal settings yet")
	assert.Contains(t, page, `<option value="default" selected>Sales Pipeline</option>`)
	assert.Contains(t, page, `<option value="partners">Partner deals</option>`)
	assert.Contains(t, page, `<optgroup label="Partner deals" data-pipeline="partners"><option value="p-new">New referral</option>`)
	assert.Contains(t, page, `<option value="closedwon">Closed Won</option>`)

	offered := propertyOptions(page)
	assert.Subset(t, offered, []string{"amount", "closedate", "dealtype", "description"})
	for _, p := range []string{"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_is_closed", "days_to_close",
		"dealname", "dealstage", "pipeline", tenants.DealKeyProperty} {
		assert.NotContains(t, offered, p, "read-only, calculated or set by refhub")
	}

	hubspotCalls := func() int {
		return de.env.Sim.Count(func(r hubspottest.Request) bool {
			return r.Endpoint == "pipelines.list" || r.Endpoint == "deals.properties.list"
		})
	}
	require.Equal(t, 2, hubspotCalls())
	_, _, _ = de.post(t, url.Values{"action": {"preview"}, "name": {"{first_name}"}})
	_, _ = apptest.Get(t, de.b, de.base)
	assert.Equal(t, 2, hubspotCalls(), "previews and reloads within a minute reuse the portal's pipelines and properties")
	_, again := apptest.Get(t, de.b, de.base+"?refresh=1")
	assert.Equal(t, 4, hubspotCalls(), "Reload asks HubSpot again")
	assert.Contains(t, again, "Pipelines and deal properties reloaded from HubSpot.")

	assert.Contains(t, page, "From the last signup received")
	assert.Contains(t, page, `<strong id="deal-name-preview">Referral: Ada (Spring)</strong>`, "{last_name} is not in the signup")
}

// TestDealsTabPreviewsAndWarns: the preview follows the form (the name
// template, mapped fields and defaults, from the last signup), and a field
// whose value HubSpot would refuse for its property gets the contact
// mapping's warning.
func TestDealsTabPreviewsAndWarns(t *testing.T) {
	de := startDeals(t)
	status, _, page := de.post(t, url.Values{"action": {"preview"}, "lead": {"deal"}, "pipeline": {"default"},
		"stage": {"appointmentscheduled"}, "name": {"{campaign_name}: {first_name} ({email})"},
		"from": {"meta.Budget", "code"}, "to": {"amount", "description"}, "default_property": {"dealtype"}, "default_value": {"newbusiness"}})
	require.Equal(t, http.StatusOK, status, page)
	page = html.UnescapeString(page)
	assert.Contains(t, page, `<strong id="deal-name-preview">Spring: Ada (a•••@example.com)</strong>`, "emails are masked as elsewhere")
	assert.Contains(t, page, `"about 5k" is not a number, and Amount (amount) holds numbers: HubSpot will refuse it.`)
	assert.Contains(t, page, "1 row needs attention")
	assert.Contains(t, page, `<code>description</code></td><td class="value">ADA1</td>`)
	assert.Contains(t, page, `<code>dealtype</code></td><td class="value">newbusiness</td>`)
	assert.Contains(t, page, "Not saved yet")
	assert.Nil(t, de.load(t).Deals, "a preview saves nothing")

	status, _, page = de.post(t, url.Values{"action": {"preview"}, "from": {"meta.Budget"}, "to": {"description"}, "name": {"x"}})
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, page, "is not a number", "text into a text property is fine")

	status, _, page = de.post(t, url.Values{"action": {"add-field"}, "from": {"code"}, "to": {"description"}, "name": {"x"}})
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `id="from-2"`, "without JavaScript, Add a field adds a row to the one mapped and the empty one")
	assert.NotContains(t, page, `id="from-3"`)
}

// TestDealsTabSavesAndRemoves: a refused setting is shown next to its
// field and saves nothing; a good one is stored (the API shows it), and
// removing it makes contacts only again.
func TestDealsTabSavesAndRemoves(t *testing.T) {
	de := startDeals(t)
	form := url.Values{"action": {"save"}, "lead": {"deal"}, "referrer": {"contact"}, "pipeline": {"default"},
		"stage": {"p-new"}, "name": {"Referral: {first_name}"}, "from": {"code", "first_name"}, "to": {"description", "dealname"}}
	status, _, page := de.post(t, form)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	page = html.UnescapeString(page)
	assert.Contains(t, page, "The deal settings were not saved")
	assert.Contains(t, page, `<div class="msg" id="msg-field-1"><p class="field-error">dealname cannot be mapped: the deal name comes from the name template</p>`,
		"the row's problem is next to it")
	assert.Contains(t, page, `value="Referral: {first_name}"`, "the input is kept")
	assert.Nil(t, de.load(t).Deals)

	form["to"] = []string{"description", ""}
	form["from"] = []string{"code", ""}
	status, _, page = de.post(t, form)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	page = html.UnescapeString(page)
	assert.Contains(t, page, `<p class="field-error" id="msg-stage">pipeline "default" has no stage "p-new"; choose one of its stages: appointmentscheduled (Appointment Scheduled)`,
		"a stage of another pipeline is refused next to the stage picker")
	assert.Nil(t, de.load(t).Deals)

	form.Set("pipeline", "partners")
	form["default_property"], form["default_value"] = []string{"dealtype"}, []string{"newbusiness"}
	status, loc, page := de.post(t, form)
	require.Equal(t, http.StatusSeeOther, status, page)
	assert.Equal(t, "/app/sources/"+de.src.ID+"/deals", loc)

	var got struct{ Deals *tenants.DealSettings }
	de.b.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID, nil, http.StatusOK, &got)
	require.NotNil(t, got.Deals)
	assert.Equal(t, tenants.DealSettings{CreateFor: []string{"lead"}, Pipeline: "partners", Stage: "p-new", Name: "Referral: {first_name}",
		Fields: []tenants.FieldMap{{From: "code", To: "description"}}, Defaults: map[string]string{"dealtype": "newbusiness"}}, *got.Deals)
	_, page = apptest.Get(t, de.b, de.base)
	page = html.UnescapeString(page)
	assert.Contains(t, page, "Deal settings saved: every new lead also becomes a deal; referrers stay contacts only.")
	assert.Contains(t, page, `id="lead-deal" name="lead" value="deal" checked`)
	assert.Contains(t, page, `id="referrer-contact" name="referrer" value="contact" checked`)
	assert.Contains(t, page, `<option value="p-new" selected>New referral</option>`)

	status, loc, _ = apptest.PostForm(t, de.b, de.base+"/delete", apptest.WithCSRF(de.b.CSRF(), url.Values{}))
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/app/sources/"+de.src.ID+"/deals", loc)
	assert.Nil(t, de.load(t).Deals)
	_, page = apptest.Get(t, de.b, de.base)
	assert.Contains(t, page, "Deal settings removed")
}

// TestDealSettingsRefusedReadAsDealErrors: the API's 422 for deal settings
// says they are deal settings, and what to fix.
func TestDealSettingsRefusedReadAsDealErrors(t *testing.T) {
	de := startDeals(t)
	status, body := de.b.Do(http.MethodPut, "/api/v1/sources/"+de.src.ID+"/deals", map[string]any{
		"create_for": []string{"lead"}, "pipeline": "default", "stage": "nope", "name": "Referral: {first_name}"})
	require.Equal(t, http.StatusUnprocessableEntity, status, string(body))
	var e struct{ Error struct{ Message string } }
	require.NoError(t, json.Unmarshal(body, &e))
	assert.True(t, strings.HasPrefix(e.Error.Message, "invalid deal settings: stage: "), e.Error.Message)
	assert.Contains(t, e.Error.Message, "choose one of its stages: appointmentscheduled (Appointment Scheduled)")
	assert.NotContains(t, e.Error.Message, "mapping")

	status, body = de.b.Do(http.MethodPut, "/api/v1/sources/"+de.src.ID+"/deals", map[string]any{
		"create_for": []string{"lead"}, "name": "x", "fields": []map[string]string{{"from": "code", "to": tenants.DealKeyProperty}}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.NoError(t, json.Unmarshal(body, &e))
	assert.True(t, strings.HasPrefix(e.Error.Message, "invalid deal settings: pipeline: choose the deal pipeline"), e.Error.Message)
	assert.Contains(t, e.Error.Message, "refhub_referral_key cannot be mapped: refhub sets it")
}

// TestDealChoicesAPI: GET /deals/choices lists open pipelines, writable
// deal properties and the last signup's fields (redacted).
func TestDealChoicesAPI(t *testing.T) {
	de := startDeals(t)
	var ch workspace.DealChoices
	de.b.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/deals/choices", nil, http.StatusOK, &ch)
	assert.False(t, ch.ReconnectNeeded)
	assert.Empty(t, ch.MissingScopes)
	var pipes []string
	for _, p := range ch.Pipelines {
		pipes = append(pipes, p.ID)
	}
	assert.Equal(t, []string{"default", "partners"}, pipes)
	var props []string
	for _, p := range ch.Properties {
		assert.True(t, p.Writable, p.Name)
		props = append(props, p.Name)
	}
	assert.Contains(t, props, "amount")
	assert.NotContains(t, props, "hs_object_id")
	assert.NotContains(t, props, "dealstage")
	assert.Equal(t, "last_signup", ch.FieldsFrom)
	assert.NotNil(t, ch.ReceivedAt)
	var email string
	for _, f := range ch.Fields {
		if f.Path == "email" {
			email = f.Value
		}
	}
	assert.Equal(t, "a•••@example.com", email)
}

// TestDealsTabAsksToReconnectPortalsInstalledBeforeDeals: a portal that
// has not granted the deal scopes gets the reconnect notice, a disabled
// form and no HubSpot deal calls; saving is refused with the same advice.
func TestDealsTabAsksToReconnectPortalsInstalledBeforeDeals(t *testing.T) {
	de := startDeals(t)
	ctx := context.Background()
	p, err := de.env.App.Store().Portal(ctx, 1001)
	require.NoError(t, err)
	p.Scopes = slices.DeleteFunc(p.Scopes, func(s string) bool { return slices.Contains(tenants.DealScopes, s) })
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	key := tenants.PortalKey(1001, "")
	require.NoError(t, de.env.Redis.Set(ctx, key[:len(key)-1], raw, 0).Err())
	pipelineCalls := func() int {
		return de.env.Sim.Count(func(r hubspottest.Request) bool {
			return r.Endpoint == "pipelines.list" || strings.HasPrefix(r.Endpoint, "deals.")
		})
	}
	before := pipelineCalls()

	status, page := apptest.Get(t, de.b, de.base)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `id="reconnect-deals"`)
	assert.Contains(t, page, "Reconnect to enable deals.")
	assert.Contains(t, page, `<a href="/oauth/install">Reconnect HubSpot</a>`)
	assert.Contains(t, page, `<fieldset class="plain" disabled`)
	assert.Contains(t, page, "crm.schemas.deals.write")
	assert.Equal(t, before, pipelineCalls(), "no deal call without deal access")

	var ch workspace.DealChoices
	de.b.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/deals/choices", nil, http.StatusOK, &ch)
	assert.True(t, ch.ReconnectNeeded)
	assert.Equal(t, tenants.DealScopes, ch.MissingScopes)
	assert.Empty(t, ch.Pipelines)

	de.saveRefused(t, "reconnect to enable deals")
}

// TestDealsTabForViewersAndOtherWorkspaces: a viewer sees the tab but
// cannot save or remove; another workspace's admin gets 404 for the page,
// the form and the choices.
func TestDealsTabForViewersAndOtherWorkspaces(t *testing.T) {
	de := startDeals(t)
	viewer := de.env.Install(1001, 704)
	de.b.JSON(http.MethodPatch, "/api/v1/members/704", map[string]any{"role": "viewer", "portals": "all"}, http.StatusOK, nil)
	status, page := apptest.Get(t, viewer, de.base)
	require.Equal(t, http.StatusOK, status, "a viewer reads")
	assert.Contains(t, page, `id="deals-form"`)
	var ch workspace.DealChoices
	viewer.JSON(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/deals/choices", nil, http.StatusOK, &ch)
	assert.NotEmpty(t, ch.Pipelines)
	save := goodSave()
	status, _, _ = apptest.PostForm(t, viewer, de.base, apptest.WithCSRF(viewer.CSRF(), save))
	assert.Equal(t, http.StatusForbidden, status, "a viewer changes nothing")
	assert.Nil(t, de.load(t).Deals)
	status, _, _ = de.post(t, save)
	require.Equal(t, http.StatusSeeOther, status)
	status, _, _ = apptest.PostForm(t, viewer, de.base+"/delete", apptest.WithCSRF(viewer.CSRF(), url.Values{}))
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotNil(t, de.load(t).Deals, "still saved")

	other := de.env.Install(2002, 602)
	status, page = apptest.Get(t, other, de.base)
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotContains(t, page, "Spring program")
	status, _ = other.Do(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/deals/choices", nil)
	assert.Equal(t, http.StatusNotFound, status)
	for _, path := range []string{de.base, de.base + "/delete"} {
		status, _, _ = apptest.PostForm(t, other, path, apptest.WithCSRF(other.CSRF(), save))
		assert.Equal(t, http.StatusNotFound, status, path)
	}
	assert.NotNil(t, de.load(t).Deals, "still saved")
}

// TestDealsTabWhenHubSpotFails: pipelines and properties HubSpot would not
// list leave the tab usable (ids typed in, the reason shown) and make the
// choices API answer 502; saving is refused with HubSpot's problem.
func TestDealsTabWhenHubSpotFails(t *testing.T) {
	de := startDeals(t)
	de.env.Sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{403}})
	status, page := apptest.Get(t, de.b, de.base+"?refresh=1")
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, `id="deal-choices-error"`)
	assert.Contains(t, page, "The deal pipelines and properties could not be loaded from HubSpot")
	assert.Contains(t, page, `<input id="deal-pipeline" name="pipeline"`, "the pipeline id can be typed")
	assert.Contains(t, page, `<input id="to-0" name="to"`, "so can the properties")
	status, _ = de.b.Do(http.MethodGet, "/api/v1/sources/"+de.src.ID+"/deals/choices?refresh=1", nil)
	assert.Equal(t, http.StatusBadGateway, status)

	de.saveRefused(t, "HubSpot did not answer as expected")
}

// TestDealsTabShowsAStageDeletedInHubSpot: a saved stage deleted in
// HubSpot since is shown as gone, with a warning, rather than replaced by
// another one unnoticed.
func TestDealsTabShowsAStageDeletedInHubSpot(t *testing.T) {
	de := startDeals(t)
	status, _, body := de.post(t, url.Values{"action": {"save"}, "lead": {"deal"}, "pipeline": {"partners"}, "stage": {"p-won"}, "name": {"x"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	_, page := apptest.Get(t, de.b, de.base)
	assert.NotContains(t, page, `id="gone-stage"`)

	de.env.Sim.DeleteStage(1001, "partners", "p-won")
	_, page = apptest.Get(t, de.b, de.base+"?refresh=1")
	page = html.UnescapeString(page)
	assert.Contains(t, page, `<option value="p-won" selected>p-won (deleted or archived)</option>`)
	assert.Contains(t, page, "The saved stage <code>p-won</code> is no longer in this portal")
	assert.Contains(t, page, `<option value="partners" selected>Partner deals</option>`, "its pipeline is still there")
}
