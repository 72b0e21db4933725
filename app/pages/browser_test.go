package pages_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// browserPortals: one admin with access to two portals (an agency's view).
var browserPortals = []hubspottest.Portal{
	{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}, {ID: 777, Email: "marketing@acme.test"}}},
	{HubID: 2002, Domain: "acme-emea.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}}},
}

// referralFactorySignup is what Referral Factory posts when a referrer joins.
const referralFactorySignup = `{"type":"person_referring","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com",
"code":"ADA1","url":"https://acme.referral-factory.com/r/ADA1","campaign_name":"Spring referral","source":"Direct",
"referrals_count":"3","converted_referrals_count":"1","signed_up_at":"2026-03-01 10:00:00",
"meta":[{"field":"Company","value":"Analytical Engines"}]}`

// scenario is the settings app driven in a browser against the real
// server and the HubSpot simulator.
type scenario struct {
	t     *testing.T
	env   *apptest.Env
	c     *chrome
	srcID string
}

// TestBrowserSetUpTestBreakFixReplay: install through the simulator's
// consent page, create a source, map fields with the dropdowns, create the
// recommended properties, send a test signup and see it succeed, break the
// mapping and see the failure explained, fix it and replay. Screenshots of
// the main pages land in testdata/screenshots.
func TestBrowserSetUpTestBreakFixReplay(t *testing.T) {
	began := time.Now()
	s := &scenario{t: t, env: apptest.Start(t, apptest.Options{Portals: browserPortals, Delivery: true})}
	s.c = startChrome(t)
	t.Logf("browser started in %s", time.Since(began).Round(time.Millisecond))

	var failed string
	steps := []struct {
		name string
		run  func()
	}{
		{"install", s.install}, {"create a source", s.createSource}, {"receive a signup", s.receiveSignup},
		{"map fields", s.mapFields}, {"create recommended properties", s.createRecommended},
		{"test signup succeeds", s.testSignupSucceeds}, {"break the mapping", func() { failed = s.breakMapping() }},
		{"fix and replay", func() { s.fixAndReplay(failed) }}, {"charts", s.charts}, {"route a campaign", s.routeCampaign},
		{"leads", s.leads}, {"qualification", s.qualification}, {"deals", s.deals}, {"API tokens", s.apiTokens}, {"members", s.members},
		{"home", s.home}, {"forget a person", s.forget},
	}
	for _, step := range steps {
		at := time.Now()
		step.run()
		t.Logf("%-30s %s", step.name, time.Since(at).Round(time.Millisecond))
	}
	assert.Empty(t, s.c.consoleProblems(s.env.URL("")), "no console errors, exceptions or CSP violations in refhub's pages")
	s.notFound() // last: the browser logs the 404 as a console error
	t.Logf("browser scenario took %s", time.Since(began).Round(time.Millisecond))
}

func (s *scenario) url(path string) string { return s.env.URL(path) }

// page checks that every form control of the current page has a label a
// screen reader announces, then saves its screenshot.
func (s *scenario) page(name string) {
	s.t.Helper()
	unlabelled := evalJS[[]string](s.c, "look for unlabelled controls", `Array.from(document.querySelectorAll(
		"input:not([type=hidden]), select, textarea")).filter(el => !(el.labels && el.labels.length) &&
		!el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")).map(el => el.outerHTML.slice(0, 120))`)
	assert.Empty(s.t, unlabelled, "controls without a label on the %s page", name)
	s.c.shot(name)
}

func (s *scenario) flashHas(text string) string {
	return `document.querySelector(".flash") && document.querySelector(".flash").innerText.includes(` + jsString(text) + `)`
}

// install connects both portals through the simulator's consent page.
func (s *scenario) install() {
	c := s.c
	c.open(s.url("/oauth/install"), "#approve")
	c.do("pick portal 1001", chromedp.Click(chromedp.CSS("#portal-1001-user-501")))
	c.submit("approve", "#approve", `location.pathname === "/app/" && document.querySelector("table.portals")`)
	assert.Contains(s.t, c.text("table.portals"), "acme.hubspot.test")

	c.submit("connect another portal", `main a.button[href="/oauth/install"]`, `location.pathname === "/oauth/authorize"`)
	c.do("pick portal 2002", chromedp.Click(chromedp.CSS("#portal-2002-user-501")))
	c.submit("approve", "#approve", `location.pathname === "/app/" && document.querySelector("table.portals")`)
	assert.Contains(s.t, c.text("table.portals"), "acme-emea.hubspot.test")
}

// createSource creates a source on the portal page.
func (s *scenario) createSource() {
	c := s.c
	c.submit("open portal", `a[href="/app/portals/1001"]`, `document.querySelector("#source-name")`)
	c.fill("#source-name", "Spring referral program")
	c.submit("create source", `form.create-source button[type="submit"]`, `document.querySelector("#webhook-url")`)
	assert.Contains(s.t, c.text(".flash"), "Source created")
	path := evalJS[string](c, "read location", `location.pathname`)
	s.srcID = strings.TrimPrefix(path, "/app/sources/")
	require.NotEmpty(s.t, s.srcID)
	hook := evalJS[string](c, "read webhook URL", `document.querySelector("#webhook-url").value`)
	assert.True(s.t, strings.HasPrefix(hook, s.url("/hooks/referral-factory/")), hook)

	c.open(s.url("/app/portals/1001"), "#source-name")
	assert.Contains(s.t, c.text("#sources-h + p + .source-item"), "Spring referral program")
	s.page("portal")
}

// receiveSignup posts what Referral Factory sends, then finds its fields
// on the source page.
func (s *scenario) receiveSignup() {
	src, err := s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	status, body := apptest.Post(s.t, s.env.App.WebhookURL(src), "application/json", []byte(referralFactorySignup))
	require.Equal(s.t, http.StatusAccepted, status, string(body))
	s.c.open(s.url("/app/sources/"+s.srcID), "#last")
	s.c.do("copy the webhook URL", chromedp.Click(chromedp.CSS(`button[data-copy="webhook-url"]`)))
	s.c.waitFor("the copy confirmation", `document.querySelector('button[data-copy="webhook-url"]').innerText === "Copied"`)
	last := s.c.text("#last")
	assert.Contains(s.t, last, "meta.Company")
	assert.Contains(s.t, last, "a•••@example.com", "emails are partly masked")
	s.page("source")
}

// mapFields maps fields and a default value with the dropdowns.
func (s *scenario) mapFields() {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID+"/mapping"), "#mapping-form")
	c.fill("#from-2", "last_name")
	c.choose("#to-2", "lastname")
	c.do("add a field row", chromedp.Click(chromedp.CSS(`[data-add-row="fields"]`)))
	c.waitFor("new row", `document.querySelector("#from-3")`)
	c.fill("#from-3", "meta.Company")
	c.choose("#to-3", "company")
	c.choose("#dprop-0", "lifecyclestage")
	c.waitFor("options of lifecyclestage", `document.querySelector("#dval-0").tagName === "SELECT"`)
	c.choose("#dval-0", "lead")
	c.do("keep the update policy", chromedp.Click(chromedp.CSS("#policy-update")))
	c.submit("save mapping", "#save-mapping", s.flashHas("Mapping saved"))

	src, err := s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	assert.Contains(s.t, src.Mapping.Fields, tenants.FieldMap{From: "last_name", To: "lastname"})
	assert.Contains(s.t, src.Mapping.Fields, tenants.FieldMap{From: "meta.Company", To: "company"})
	assert.Equal(s.t, map[string]string{"lifecyclestage": "lead"}, src.Mapping.Defaults)
	assert.Equal(s.t, tenants.Update, src.Mapping.OnExisting)
}

// createRecommended creates the Referral Factory properties in one click.
func (s *scenario) createRecommended() {
	c := s.c
	c.submit("create recommended properties", "#create-recommended", s.flashHas("Created 7 properties"))
	mapped := evalJS[bool](c, "find rf_referral_count", `Array.from(document.querySelectorAll("select[name=to]")).some(s => s.value === "rf_referral_count")`)
	assert.True(s.t, mapped, "the recommended properties are mapped")
	assert.NotContains(s.t, c.text("#mapping-form"), "hs_object_id", "read-only properties are not offered")
	s.page("mapping")
}

// testSignupSucceeds sends a test signup and waits for the contact.
func (s *scenario) testSignupSucceeds() {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID), "#send-test")
	assert.Equal(s.t, "admin@acme.test", evalJS[string](c, "read test email", `document.querySelector("#test-email").value`))
	c.submit("send test signup", "#send-test", `location.pathname.includes("/events/")`)
	c.waitFor("the test contact in HubSpot", `document.querySelector("#event-result").innerText.includes("Created a new contact")`)
	link := evalJS[string](c, "read contact link", `document.querySelector("#event-result a.contact-link").href`)
	assert.True(s.t, strings.HasPrefix(link, s.env.Sim.URL()+"/contacts/1001/record/0-1/"), link)
	s.page("test-result")

	contact, ok := s.env.Sim.ContactByEmail(1001, "admin+rf-test-1@acme.test")
	require.True(s.t, ok)
	assert.Equal(s.t, "Analytical Engines", contact.Properties["company"])
	assert.Equal(s.t, "Lovelace", contact.Properties["lastname"])
	assert.Equal(s.t, "lead", contact.Properties["lifecyclestage"])
	assert.Equal(s.t, "3", contact.Properties["rf_referral_count"])
}

// breakMapping feeds text into a number property: the editor warns, and
// the test signup fails with the reason and the fix.
func (s *scenario) breakMapping() string {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID+"/mapping"), "#mapping-form")
	from := evalJS[string](c, "find the referral count row", `Array.from(document.querySelectorAll("select[name=to]"))
		.find(s => s.value === "rf_referral_count").closest("tr").querySelector("input[name=from]").id`)
	c.fill("#"+from, "first_name")
	c.submit("save the broken mapping", "#save-mapping", s.flashHas("Mapping saved"))
	assert.Contains(s.t, c.text("#mapping-form"), `"Ada" is not a number`, "the type mismatch is warned about")
	s.page("mapping-warning")

	c.open(s.url("/app/sources/"+s.srcID), "#send-test")
	c.submit("send test signup", "#send-test", `location.pathname.includes("/events/")`)
	c.waitFor("the failure", `document.querySelector("#event-result .status-failed")`)
	result := c.text("#event-result")
	assert.Contains(s.t, result, "Property 'rf_referral_count' holds numbers")
	assert.Contains(s.t, result, "How to fix it")
	s.page("test-result-failed")
	failed := evalJS[string](c, "read event id", `location.pathname.split("/").pop()`)

	c.open(s.url("/app/sources/"+s.srcID+"/activity?status=failed"), "table.activity")
	assert.Contains(s.t, c.text("table.activity"), "holds numbers")
	s.page("activity-failed")
	c.open(s.url("/app/sources/"+s.srcID+"/dead-letters"), "#replay-all")
	dead := c.text("main")
	assert.Contains(s.t, dead, "holds numbers")
	assert.Contains(s.t, dead, "Attempts")
	s.page("dead-letters")
	return failed
}

// fixAndReplay repairs the mapping, replays the dead letter and sees it
// delivered.
func (s *scenario) fixAndReplay(failed string) {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID+"/mapping"), "#mapping-form")
	from := evalJS[string](c, "find the referral count row", `Array.from(document.querySelectorAll("select[name=to]"))
		.find(s => s.value === "rf_referral_count").closest("tr").querySelector("input[name=from]").id`)
	c.fill("#"+from, "referrals_count")
	c.submit("save the fixed mapping", "#save-mapping", s.flashHas("Mapping saved"))
	assert.NotContains(s.t, c.text("#mapping-form"), "is not a number")

	c.open(s.url("/app/sources/"+s.srcID+"/dead-letters"), "#replay-all")
	c.submit("replay all", "#replay-all", s.flashHas("queued again"))
	c.open(s.url("/app/sources/"+s.srcID+"/events/"+failed), "#event-result")
	c.waitFor("the replayed signup delivered", `document.querySelector("#event-result .status-delivered")`)
	assert.Contains(s.t, c.text("#event-result"), "Open the contact in HubSpot")
	contact, ok := s.env.Sim.ContactByEmail(1001, "admin+rf-test-2@acme.test")
	require.True(s.t, ok)
	assert.Equal(s.t, "3", contact.Properties["rf_referral_count"])

	c.open(s.url("/app/sources/"+s.srcID+"/activity"), "table.activity")
	assert.NotContains(s.t, c.text("table.activity"), "failed")
	s.page("activity")
	c.open(s.url("/app/sources/"+s.srcID+"/dead-letters"), ".card.empty")
}

// charts finds today's activity — 3 delivered (the real signup and both
// test signups, one of them after its replay), 1 failed — as today's bars
// of the portal's and the source's charts, every other day empty, drawn
// with the hatch pattern from the stylesheet, and in the table of numbers.
func (s *scenario) charts() {
	c := s.c
	for _, pg := range []struct{ path, chart, shot string }{
		{"/app/portals/1001", "#portal-chart", "chart-portal"},
		{"/app/sources/" + s.srcID, "#source-chart", "chart-source"},
	} {
		c.open(s.url(pg.path), pg.chart+" svg")
		got := evalJS[map[string]any](c, "read the chart of "+pg.path, `(() => {
			const fig = document.querySelector(`+jsString(pg.chart)+`), svg = fig.querySelector("svg");
			const today = svg.querySelector("g.day.today"), box = svg.getBoundingClientRect();
			const h = sel => { const r = today.querySelector(sel); return r ? r.getBBox().height : 0; };
			const failed = today.querySelector(".bar-failed");
			fig.querySelector("details").open = true;
			const last = fig.querySelector("tbody tr:last-child").innerText;
			fig.querySelector("details").open = false;
			return {
				width: box.width, delivered: today.dataset.delivered, failed: today.dataset.failed,
				deliveredH: h(".bar-delivered"), failedH: h(".bar-failed"),
				failedFill: failed ? getComputedStyle(failed).fill : "",
				deliveredFill: getComputedStyle(today.querySelector(".bar-delivered")).fill,
				otherBars: svg.querySelectorAll("g.day:not(.today) rect").length,
				legend: Array.from(svg.querySelectorAll(".legend text")).map(t => t.textContent),
				title: svg.querySelector("title").textContent, desc: svg.querySelector("desc").textContent,
				labelled: svg.getAttribute("aria-labelledby"), row: last,
				queue: document.querySelector("#queue-now").innerText,
			};
		})()`)
		assert.Greater(s.t, got["width"], 500.0, "%s: the chart fills its card", pg.path)
		assert.Equal(s.t, "3", got["delivered"], pg.path)
		assert.Equal(s.t, "1", got["failed"], pg.path)
		assert.InDelta(s.t, 3*got["failedH"].(float64), got["deliveredH"], 0.5, "%s: 3 delivered is three times 1 failed", pg.path)
		assert.Contains(s.t, got["failedFill"], "url(", "%s: failed bars are hatched", pg.path)
		assert.NotContains(s.t, got["deliveredFill"], "url(", "%s: delivered bars are solid", pg.path)
		assert.NotEqual(s.t, "rgb(0, 0, 0)", got["deliveredFill"], "%s: the stylesheet colours the bars", pg.path)
		assert.Equal(s.t, 0.0, got["otherBars"], "%s: no activity on the 29 days before today", pg.path)
		assert.Equal(s.t, []any{"Delivered (3)", "Failed (1)"}, got["legend"], pg.path)
		assert.Contains(s.t, got["desc"], "Today so far: 3 delivered, 1 failed", pg.path)
		assert.Equal(s.t, strings.TrimPrefix(pg.chart, "#")+"-title "+strings.TrimPrefix(pg.chart, "#")+"-desc", got["labelled"])
		assert.Regexp(s.t, `^Today, .*\s3\s+1$`, got["row"], "%s: today's numbers in the table", pg.path)
		assert.Contains(s.t, got["queue"], "Nothing waiting", pg.path)
		c.shotOf(pg.shot, "#trend")
	}
}

// routeCampaign sends one campaign's signups to the second portal.
func (s *scenario) routeCampaign() {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID+"/routes"), "#routes-form")
	c.fill("#campaign-0", "spring-emea")
	c.choose("#route-hub-0", "2002")
	c.submit("save routes", `#routes-form .actions button[value="save"]`, s.flashHas("Campaign routes saved"))
	src, err := s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	require.Len(s.t, src.Routes, 1)
	assert.Equal(s.t, int64(2002), src.Routes[0].HubID)
	assert.Equal(s.t, src.Mapping, src.Routes[0].Mapping, "a new route starts with a copy of the default mapping")
	c.submit("open the route's mapping", `a[href="/app/sources/`+s.srcID+`/mapping?route=spring-emea"]`, `document.querySelector("#mapping-form")`)
	assert.Contains(s.t, c.text("h2"), "spring-emea")
	assert.Contains(s.t, c.text("main"), "acme-emea.hubspot.test")
	c.open(s.url("/app/sources/"+s.srcID+"/routes"), "#routes-form")
	s.page("routing")
}

// qualification sets a rule with the pickers, sees what a qualification
// would send, then switches the rule to a deal stage.
func (s *scenario) qualification() {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID+"/qualification"), "#qualification-form")
	assert.Contains(s.t, c.text("#current-rule"), "No rule yet")
	c.fill("#rf-inbound-url", "https://referral-factory.com/webhook/Tok3nOfTheCustomer42/qualify")
	c.choose("#property", "lifecyclestage")
	c.choose("#value", "customer")
	c.submit("save the rule", `#qualification-form button[type="submit"]`, s.flashHas("Qualification rule saved"))
	rule := c.text("#current-rule")
	assert.Contains(s.t, rule, "lifecyclestage")
	assert.Contains(s.t, rule, "customer")
	assert.NotContains(s.t, rule, "Tok3nOfTheCustomer42", "the inbound URL's token is hidden")
	s.page("qualification")

	c.fill("#test-code", "ADA1")
	c.submit("test", `form[action$="/qualification/test"] button`, `document.querySelector("#qualification-preview")`)
	preview := c.text("#qualification-preview")
	assert.Contains(s.t, preview, "code=ADA1")
	assert.Contains(s.t, preview, "POST https://referral-factory.com/webhook/")
	assert.NotContains(s.t, preview, "Tok3nOfTheCustomer42")
	s.page("qualification-test")

	c.do("pick deals", chromedp.Click(chromedp.CSS("#object-deal")))
	c.choose("#stage", "closedwon")
	c.submit("save the deal rule", `#qualification-form button[type="submit"]`, s.flashHas("Qualification rule saved"))
	assert.Contains(s.t, c.text("#current-rule"), "dealstage")
	assert.Contains(s.t, c.text("#current-rule"), "closedwon")
}

// deals makes the source's leads deals too: the stage picker follows the
// chosen pipeline, the name template's preview follows typing (rendered
// by the server from the last signup), a field is mapped, and the
// settings are saved; then its referrers are set to be sent nothing.
func (s *scenario) deals() {
	c := s.c
	s.env.Sim.AddPipeline(1001, hubspottest.Pipeline{ID: "partners", Label: "Partner deals", Stages: []hubspottest.PipelineStage{
		{ID: "p-new", Label: "New referral"}, {ID: "p-qualified", Label: "Qualified referral"}}})
	c.open(s.url("/app/sources/"+s.srcID), "nav.tabs")
	c.submit("open the Deals tab", `nav.tabs a[href$="/deals"]`, `document.querySelector("#deals-form")`)
	assert.Contains(s.t, c.text("#deals-status"), "contacts only")
	c.do("leads become deals", chromedp.Click(chromedp.CSS("#lead-deal")))
	c.choose("#deal-pipeline", "partners")
	assert.Equal(s.t, "p-new", evalJS[string](c, "read the stage", `document.querySelector("#deal-stage").value`),
		"the stage picker moves to the chosen pipeline's first stage")
	assert.True(s.t, evalJS[bool](c, "look at the stages offered", `document.querySelector('#deal-stage optgroup[data-pipeline="default"]').disabled`),
		"stages of other pipelines are not offered")
	c.choose("#deal-stage", "p-qualified")
	c.fill("#deal-name", "Referral: {first_name} {last_name} · {meta.Company}")
	c.waitFor("the name preview", `document.querySelector("#deal-name-preview").innerText === "Referral: Ada Lovelace · Analytical Engines"`)
	c.fill("#from-0", "campaign_name")
	c.choose("#to-0", "description")
	c.waitFor("the mapped field in the preview", `document.querySelector("#deal-preview").innerText.includes("Spring referral")`)
	s.page("deals")
	c.submit("save the deal settings", "#save-deals", s.flashHas("Deal settings saved"))
	assert.Contains(s.t, c.text(".flash"), "every new lead also becomes a deal")
	assert.Equal(s.t, "p-qualified", evalJS[string](c, "read the saved stage", `document.querySelector("#deal-stage").value`))

	src, err := s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	require.NotNil(s.t, src.Deals)
	assert.Equal(s.t, []string{tenants.DealsForLeads}, src.Deals.CreateFor)
	assert.Equal(s.t, "partners", src.Deals.Pipeline)
	assert.Equal(s.t, "p-qualified", src.Deals.Stage)
	assert.Equal(s.t, "Referral: {first_name} {last_name} · {meta.Company}", src.Deals.Name)
	assert.Equal(s.t, []tenants.FieldMap{{From: "campaign_name", To: "description"}}, src.Deals.Fields)

	c.do("referrers are not sent", chromedp.Click(chromedp.CSS("#referrer-nothing")))
	c.submit("save: referrers not sent", "#save-deals", s.flashHas("referrers are not sent to HubSpot"))
	assert.Contains(s.t, c.text("#not-sent-kinds"), "Referrers: not sent to HubSpot.")
	assert.True(s.t, evalJS[bool](c, "read the referrers' choice", `document.querySelector("#referrer-nothing").checked`))
	src, err = s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	assert.False(s.t, src.Sends(false))

	c.fill("#from-1", "meta.Company")
	c.choose("#to-1", "amount")
	c.submit("check the mapping", "#preview-deal", `document.querySelector("#msg-field-1 .warning")`)
	assert.Contains(s.t, c.text("#msg-field-1"), `"Analytical Engines" is not a number, and Amount (amount) holds numbers`)
	s.c.shotOf("deals-warning", "#deals-form table[data-rows=fields]")
}

// forget deletes what the workspace keeps about Ada and sees the deletion
// recorded without her address.
func (s *scenario) forget() {
	c := s.c
	c.open(s.url("/app/privacy"), "#forget-email")
	c.fill("#forget-email", "ada@example.com")
	c.submit("forget", `form[action="/app/privacy/forget"] button`, s.flashHas("Deleted:"))
	assert.Contains(s.t, c.text("#deletions"), "refhub (forget)")
	assert.NotContains(s.t, c.text("main"), "ada@example.com")
	s.page("privacy")
	c.open(s.url("/app/sources/"+s.srcID+"/activity"), "main")
	assert.NotContains(s.t, c.text("main"), "a•••@example.com", "her signups are gone from the activity")
}

// leads opens the Leads tab: leads use the referrer mapping until a lead
// mapping is saved (the page says so); the admin gives leads their own
// default value and policy, and a rule of their own for telling leads.
func (s *scenario) leads() {
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID), "#leads-status")
	assert.Contains(s.t, c.text("#leads-status"), "delivered with the referrer mapping")
	c.submit("open the Leads tab", `#leads-status a[href$="kind=leads"]`, `document.querySelector("#leads-fallback")`)
	assert.Contains(s.t, c.text("#leads-fallback"), "none is held back or lost")
	assert.Contains(s.t, c.text("#lead-rule"), "person_invited", "the built-in rule is explained")
	c.choose("#dval-0", "subscriber")
	c.do("choose skip for leads", chromedp.Click(chromedp.CSS("#policy-skip")))
	c.submit("save the lead mapping", "#save-mapping", s.flashHas("Mapping saved"))
	assert.Contains(s.t, evalJS[string](c, "read location", `location.search`), "kind=leads", "back on the Leads tab")
	c.waitFor("the remove button", `document.querySelector("#remove-lead-mapping") && !document.querySelector("#leads-fallback")`)

	c.fill("#rule-field", "user_type")
	c.fill("#rule-values", "lead, invited")
	c.submit("save the lead rule", "#save-lead-rule", s.flashHas("Lead rule saved"))
	assert.Contains(s.t, c.text("#lead-rule"), "user_type")
	s.page("leads-mapping")

	src, err := s.env.App.Store().Source(context.Background(), s.srcID)
	require.NoError(s.t, err)
	require.NotNil(s.t, src.LeadMapping)
	assert.Equal(s.t, "subscriber", src.LeadMapping.Defaults["lifecyclestage"])
	assert.Equal(s.t, tenants.Skip, src.LeadMapping.OnExisting)
	assert.Equal(s.t, "lead", src.Mapping.Defaults["lifecyclestage"], "the referrer mapping is unchanged")
	require.NotNil(s.t, src.LeadRule)
	assert.Equal(s.t, []string{"lead", "invited"}, src.LeadRule.Values)

	c.submit("back to the built-in rule", "#reset-lead-rule", s.flashHas("built-in rule"))
	c.open(s.url("/app/sources/"+s.srcID), "#leads-status")
	assert.Contains(s.t, c.text("#leads-status"), "own lead mapping")
}

// apiTokens creates a token and sees its secret once.
func (s *scenario) apiTokens() {
	c := s.c
	c.open(s.url("/app/tokens"), "#token-name")
	c.fill("#token-name", "Provisioning script")
	c.submit("create token", `form[action="/app/tokens"] button[type="submit"]`, `document.querySelector("#token-secret")`)
	secret := evalJS[string](c, "read secret", `document.querySelector("#token-secret").value`)
	assert.True(s.t, strings.HasPrefix(secret, "rh_"), secret)
	assert.Contains(s.t, c.text("table"), "Provisioning script")
	s.page("tokens")
}

// members: a second admin of portal 1001 joined by installing refhub; the
// owner sees them, makes them a viewer of every portal, then removes them.
func (s *scenario) members() {
	c := s.c
	joined := s.env.Install(1001, 777)
	c.open(s.url("/app/members"), "table.members")
	row := c.text("#member-777")
	assert.Contains(s.t, row, "marketing@acme.test")
	assert.Contains(s.t, row, "through acme.hubspot.test")
	c.choose("#role-777", "viewer")
	c.do("grant every portal", chromedp.Click(chromedp.CSS(`#member-777 input[name="all"]`)))
	c.submit("save the member", `form[action="/app/members/777"] button[type="submit"]`, `document.querySelector(".flash")`)
	assert.Contains(s.t, c.text(".flash"), "Saved: marketing@acme.test is now viewer")
	assert.Contains(s.t, c.text("#member-777"), "all portals")
	assert.Len(s.t, joined.Portals(), 2, "the viewer sees every portal")
	s.page("members")
	c.submit("remove the member", `form[action="/app/members/777/remove"] button[type="submit"]`, `document.querySelector(".flash")`)
	assert.Contains(s.t, c.text(".flash"), "Removed marketing@acme.test")
	status, _ := joined.Do(http.MethodGet, "/api/v1/portals", nil)
	assert.Equal(s.t, http.StatusUnauthorized, status, "their session ended")
}

// home shows both portals with today's counts.
func (s *scenario) home() {
	c := s.c
	c.open(s.url("/app/"), "table.portals")
	row := evalJS[string](c, "read the row of portal 1001", `document.querySelector('table.portals a[href="/app/portals/1001"]').closest("tr").innerText`)
	assert.Contains(s.t, row, "acme.hubspot.test")
	assert.Regexp(s.t, `connected\s+3\s+1\s+0\s+1`, row, "delivered 3 (the real signup and both test signups), failed 1, queued 0, 1 source")
	assert.Contains(s.t, row, "3 delivered · 1 failed", "the last 30 days, as text beside the sparkline")
	spark := evalJS[map[string]any](c, "read the sparkline of portal 1001", `(() => {
		const svg = document.querySelector("#spark-1001"), pts = svg.querySelector("polyline").points;
		return {title: svg.querySelector("title").textContent, fails: svg.querySelectorAll(".spark-fail").length,
			width: svg.getBoundingClientRect().width, n: pts.numberOfItems,
			today: pts.getItem(pts.numberOfItems - 1).y, before: pts.getItem(0).y};
	})()`)
	assert.Equal(s.t, "acme.hubspot.test, last 30 days (UTC): 3 delivered, 1 failed; today 3 delivered, 1 failed", spark["title"])
	assert.Equal(s.t, 1.0, spark["fails"], "today's failure is marked")
	assert.Equal(s.t, 30.0, spark["n"])
	assert.Less(s.t, spark["today"], spark["before"], "today's deliveries rise above the empty days")
	assert.Greater(s.t, spark["width"], 100.0, "the sparkline is drawn at its size")
	s.page("home")
	c.shotOf("chart-home", "table.portals")
}

// notFound shows a clear page for an id that is not the workspace's.
func (s *scenario) notFound() {
	s.c.open(s.url("/app/sources/src_of_someone_else/mapping"), "h1")
	assert.Equal(s.t, "Not found", s.c.text("h1"))
	assert.Contains(s.t, s.c.text("main"), "belongs to a workspace you are not signed in to")
	s.page("not-found")
}
