package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// TestPagesEscapePayloadText: names, custom fields and even field names
// from a webhook are shown as text on every page that shows payload data.
func TestPagesEscapePayloadText(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	env.Sim.AddProperty(1001, hubspottest.Property{Name: "rf_referral_count", Label: "Referral count", Type: "number",
		FieldType: "number", GroupName: "contactinformation"})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "last_name", "lastname",
		"referrals_count", "rf_referral_count", "meta.Favourite", "company"), nil, "update")
	const script, img, svg = `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `"><svg onload=alert(1)>`
	status, body := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"xss@example.com",
		"first_name":"<script>alert(1)</script>","last_name":"\"><img src=x onerror=alert(1)>",
		"referrals_count":"<script>alert(1)</script>","meta":[{"field":"Favourite","value":"\"><img src=x onerror=alert(1)>"}],
		"\"><svg onload=alert(1)>":"x"}`))
	require.Equal(t, http.StatusAccepted, status, string(body))
	env.Drain(context.Background())
	dead := b.DeadLetters(src.ID)
	require.Len(t, dead, 1, "text into a number property is dead-lettered, its value quoted in the reason")
	require.Contains(t, dead[0].Reason, script)
	status, _ = apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"first_name":"<script>alert(1)</script>","\"><svg onload=alert(1)>":"y"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status, "refused for want of an email; the reason lists the field names")

	for _, path := range []string{"", "/activity", "/dead-letters", "/events/" + dead[0].ID, "/mapping"} {
		t.Run("page"+path, func(t *testing.T) {
			status, page := apptest.Get(t, b, env.URL("/app/sources/"+src.ID+path))
			require.Equal(t, http.StatusOK, status)
			for _, raw := range []string{script, img, svg, "<img"} {
				assert.NotContains(t, page, raw)
			}
			assert.Equal(t, strings.Count(page, `<svg class="chart-svg"`), strings.Count(page, "<svg"), "the only SVG is refhub's chart")
			assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "the text is there, escaped")
		})
	}
}

// appState sums up what the app's forms can change for a source's
// workspace.
func appState(t *testing.T, env *apptest.Env, b *apptest.Browser, srcID string) string {
	t.Helper()
	ctx := context.Background()
	s, err := env.App.Store().Source(ctx, srcID)
	require.NoError(t, err)
	p, err := env.App.Store().Portal(ctx, 1001)
	require.NoError(t, err)
	ts, err := env.App.Store().APITokens(ctx, s.WorkspaceID)
	require.NoError(t, err)
	srcs, err := env.App.Store().Sources(ctx, s.WorkspaceID)
	require.NoError(t, err)
	return fmt.Sprintf("%s|%s|%v|%v|%v|%v|%s|%s|%d|%d|%d|%d", s.Name, s.Token, s.Mapping, s.LeadMapping, s.LeadRule, s.Routes, s.Secret, p.Status,
		len(ts), len(srcs), len(b.Activity(srcID, "")), len(env.Sim.Properties(1001)))
}

// TestFormsRefuseMissingOrForgedCSRF: every state-changing form of the app
// is refused (403) without the session's CSRF token, with a made-up one, or
// with another session's, and nothing changes.
func TestFormsRefuseMissingOrForgedCSRF(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	other := env.Install(2002, 602)
	status, _ := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"first_name":"No email"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	ev := b.Activity(src.ID, "")[0]
	var tok struct {
		Token struct{ ID string } `json:"token"`
	}
	b.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "Kept"}, http.StatusCreated, &tok)
	before := appState(t, env, b, src.ID)
	s := "/app/sources/" + src.ID
	forms := map[string]url.Values{
		"/app/portals/1001/sources":       {"name": {"Forged"}},
		"/app/portals/1001/disconnect":    nil,
		"/app/portals/1001/delete":        {"confirm_domain": {"acme.hubspot.test"}},
		s + "/rename":                     {"name": {"Renamed"}},
		s + "/delete":                     {"confirm": {"yes"}},
		s + "/rotate-url":                 nil,
		s + "/secret":                     {"header": {""}},
		s + "/secret/delete":              nil,
		s + "/test-signup":                {"email": {"qa@example.com"}},
		s + "/mapping":                    {"from": {"x"}, "to": {"email"}, "action": {"save"}, "on_existing": {"skip"}},
		s + "/recommended-properties":     nil,
		s + "/lead-rule":                  {"rule_field": {"kind"}, "rule_values": {"lead"}},
		s + "/default-portal":             {"hub_id": {"1001"}},
		s + "/routes":                     {"campaign_id": {"7"}, "hub_id": {"1001"}, "orig": {""}, "action": {"save"}},
		s + "/events/" + ev.ID + "/retry": nil,
		s + "/dead-letters/replay":        nil,
		s + "/backfill":                   {"rf_api_token": {"forged"}, "mode": {"backfill"}},
		s + "/backfill/daily":             {"enabled": {"yes"}},
		s + "/backfill/token/delete":      nil,
		s + "/qualification": {"rf_inbound_url": {"https://referral-factory.com/webhook/forged/qualify"},
			"object": {"contact"}, "property": {"lifecyclestage"}, "value": {"customer"}},
		s + "/deals":                              {"action": {"save"}, "lead": {"deal"}, "pipeline": {"default"}, "stage": {"appointmentscheduled"}, "name": {"Forged"}},
		s + "/deals/delete":                       nil,
		s + "/qualification/test":                 {"code": {"X"}},
		s + "/qualification/delete":               nil,
		"/app/privacy/forget":                     {"email": {"qa@example.com"}},
		"/app/tokens":                             {"name": {"Forged"}},
		"/app/tokens/" + tok.Token.ID + "/revoke": nil,
		"/app/signout":                            nil,
		"/app/members/999":                        {"role": {"admin"}, "all": {"on"}},
		"/app/members/999/remove":                 {"confirm": {"yes"}},
	}
	params := strings.NewReplacer(":hubId", "1001", ":id", src.ID, ":eventId", ev.ID, ":tokenId", tok.Token.ID, ":memberId", "999")
	for _, r := range env.App.Handler().(*gin.Engine).Routes() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/app/") {
			assert.Contains(t, forms, params.Replace(r.Path), "every form of the app is tried")
		}
	}
	for path, form := range forms {
		for name, token := range map[string]string{"missing": "", "forged": "forged-token", "another session's": other.CSRF()} {
			status, _, body := apptest.PostForm(t, b, env.URL(path), apptest.WithCSRF(token, form))
			assert.Equal(t, http.StatusForbidden, status, "%s with a %s token", path, name)
			assert.Contains(t, body, "did not come from refhub", path)
		}
	}
	assert.Equal(t, before, appState(t, env, b, src.ID), "nothing changed")
	status, _ = b.Do(http.MethodGet, "/api/v1/sources/"+src.ID, nil)
	assert.Equal(t, http.StatusOK, status, "still signed in")

	status, loc, _ := apptest.PostForm(t, b, env.URL(s+"/rename"), apptest.WithCSRF(b.CSRF(), url.Values{"name": {"Renamed"}}))
	assert.Equal(t, http.StatusSeeOther, status, "the same form with the session's token works")
	assert.Equal(t, s, loc)
	assert.NotEqual(t, before, appState(t, env, b, src.ID))
}

// TestAppPagesOfAnotherWorkspace: every /app page and form that names a
// portal, source, event or token answers 404 to another workspace and
// shows none of its data; without a session, pages send to sign-in and
// forms are refused.
func TestAppPagesOfAnotherWorkspace(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	owner := env.Install(1001, 501)
	src := owner.CreateSource(1001, "Acme secret source")
	status, _ := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"first_name":"No email"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	ev := owner.Activity(src.ID, "")[0]
	var tok struct {
		Token struct{ ID string } `json:"token"`
	}
	owner.JSON(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "Acme token"}, http.StatusCreated, &tok)
	intruder := env.Install(2002, 602)
	anonymous := env.NewBrowser()
	anonymous.CheckRedirect = apptest.NoRedirect
	params := strings.NewReplacer(":hubId", "1001", ":id", src.ID, ":eventId", ev.ID, ":tokenId", tok.Token.ID)

	n := 0
	for _, r := range env.App.Handler().(*gin.Engine).Routes() {
		if !strings.HasPrefix(r.Path, "/app/") || !strings.Contains(r.Path, ":") {
			continue
		}
		n++
		path := env.URL(params.Replace(r.Path))
		var got int
		var body string
		if r.Method == http.MethodGet {
			got, body = apptest.Get(t, intruder, path)
		} else {
			got, _, body = apptest.PostForm(t, intruder, path, apptest.WithCSRF(intruder.CSRF(), url.Values{"confirm": {"yes"},
				"confirm_domain": {"acme.hubspot.test"}, "name": {"Taken"}}))
		}
		assert.Equal(t, http.StatusNotFound, got, "%s %s as another workspace", r.Method, r.Path)
		assert.NotContains(t, body, "Acme secret source", r.Path)
		assert.NotContains(t, body, "acme.hubspot.test", r.Path)

		if r.Method == http.MethodGet {
			resp, err := anonymous.Get(path)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusFound, resp.StatusCode, "%s without a session", r.Path)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/app/signin?return_to="), r.Path)
		} else {
			got, _, _ = apptest.PostForm(t, anonymous, path, url.Values{"name": {"Taken"}})
			assert.Equal(t, http.StatusUnauthorized, got, "%s %s without a session", r.Method, r.Path)
		}
	}
	assert.Greater(t, n, 20)
	_, home := apptest.Get(t, intruder, env.URL("/app/"))
	assert.NotContains(t, home, "acme.hubspot.test")
	_, tokens := apptest.Get(t, intruder, env.URL("/app/tokens"))
	assert.NotContains(t, tokens, "Acme token")
	got, err := env.App.Store().Source(context.Background(), src.ID)
	require.NoError(t, err)
	assert.Equal(t, "Acme secret source", got.Name, "nothing was changed")
}

// TestMappingEditorWithoutJavaScript: rows are added and removed by the
// server, refused mappings come back with the admin's input and the
// problems next to the rows, read-only properties are not offered, and
// values HubSpot would refuse are warned about.
func TestMappingEditorWithoutJavaScript(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	page := env.URL("/app/sources/" + src.ID + "/mapping")
	form := func(from, to []string, extra url.Values) url.Values {
		f := url.Values{"from": from, "to": to, "default_property": {""}, "default_value": {""}, "on_existing": {"update"}}
		for k, v := range extra {
			f[k] = v
		}
		return apptest.WithCSRF(b.CSRF(), f)
	}
	saved := func() tenants.Mapping {
		s, err := env.App.Store().Source(context.Background(), src.ID)
		require.NoError(t, err)
		return s.Mapping
	}
	start := saved()

	status, _, body := apptest.PostForm(t, b, page, form([]string{"email", "first_name", ""}, []string{"email", "firstname", ""}, url.Values{"action": {"add-field"}}))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `id="from-3"`, "two filled rows and two empty ones")
	assert.Contains(t, body, "Not saved yet")
	status, _, body = apptest.PostForm(t, b, page, form([]string{"email", "first_name", ""}, []string{"email", "firstname", ""}, url.Values{"remove_field": {"1"}}))
	assert.Equal(t, http.StatusOK, status)
	assert.NotContains(t, body, `name="from" value="first_name"`)
	assert.NotContains(t, body, `id="from-2"`)
	assert.Equal(t, start, saved(), "adding and removing rows saves nothing")

	status, _, body = apptest.PostForm(t, b, page, form([]string{"first_name", "last_name"}, []string{"firstname", "firstname"}, url.Values{"action": {"save"}}))
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, body, "map a Referral Factory field to the HubSpot property email")
	assert.Contains(t, body, `<p class="field-error">property &#34;firstname&#34; is mapped twice</p>`, "shown next to row 2")
	assert.Contains(t, body, `value="last_name"`, "the input is kept")
	assert.Equal(t, start, saved())

	status, loc, _ := apptest.PostForm(t, b, page, form([]string{"email", "first_name"}, []string{"email", "firstname"}, url.Values{
		"action": {"save"}, "default_property": {"lifecyclestage"}, "default_value": {"bogus"}, "on_existing": {"fill_empty"}}))
	require.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/app/sources/"+src.ID+"/mapping", loc)
	assert.Equal(t, tenants.FillEmpty, saved().OnExisting)
	_, body = apptest.Get(t, b, page)
	assert.Contains(t, body, "Mapping saved")
	assert.Contains(t, body, `bogus (not an option)`)
	assert.Contains(t, body, `&#34;bogus&#34; is not one of the options of Lifecycle Stage (lifecyclestage)`)
	assert.Contains(t, body, `<option value="firstname" selected>`)
	assert.NotContains(t, body, `value="hs_object_id"`, "read-only properties are not offered")
	assert.NotContains(t, body, `value="hs_email_domain"`, "calculated properties are not offered")
	assert.Contains(t, body, `id="policy-fill_empty" value="fill_empty" checked`)
	assert.Contains(t, body, "Creates new contacts and, on existing ones, sets only fields that are empty in HubSpot.")
}

// TestWorkspaceHomeSearchAndPages: a workspace of 120 portals is searched
// and paged 25 at a time.
func TestWorkspaceHomeSearchAndPages(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	for i := 1; i <= 119; i++ {
		_, _, err := env.App.Store().Install(context.Background(), tenants.Installation{HubID: int64(50000 + i),
			Domain: fmt.Sprintf("client-%03d.hubspot.test", i), UserID: 501, UserEmail: "admin@acme.test"})
		require.NoError(t, err)
	}
	_, body := apptest.Get(t, b, env.URL("/app/"))
	assert.Contains(t, body, "120 portals in this workspace · showing 1–25")
	assert.Equal(t, 25, strings.Count(body, `<a href="/app/portals/`))
	assert.Contains(t, body, `href="/app/?page=2"`)
	_, body = apptest.Get(t, b, env.URL("/app/?page=5"))
	assert.Contains(t, body, "showing 101–120")
	assert.Contains(t, body, "client-119.hubspot.test")
	assert.NotContains(t, body, `rel="next"`)
	_, body = apptest.Get(t, b, env.URL("/app/?q=client-04"))
	assert.Contains(t, body, "10 of 120 portals match")
	assert.Equal(t, 10, strings.Count(body, `<a href="/app/portals/`))
	_, body = apptest.Get(t, b, env.URL("/app/?q=50007"))
	assert.Contains(t, body, "client-007.hubspot.test", "search by portal id")
}
