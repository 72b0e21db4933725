package qualify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

const hub = 1001

// world is refhub with the HubSpot and Referral Factory simulators, a
// source with a qualification rule, and one lead known to refhub.
type world struct {
	env     *apptest.Env
	b       *apptest.Browser
	rf      *rftest.Server
	leads   redisLeads
	src     apptest.Source
	lead    rftest.User
	inbound string
	contact string
	rfDown  *atomic.Bool
	opts    app.Options
}

// unreachable is a transport that fails like a host that refuses
// connections while on.
type unreachable struct{ on *atomic.Bool }

func (u unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.on.Load() {
		return nil, syscall.ECONNREFUSED
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, redistest.Options(t))
}

// newWorldOn is newWorld keeping refhub's state in the Redis of ropts.
func newWorldOn(t *testing.T, ropts *redis.Options) *world {
	t.Helper()
	ctx := context.Background()
	clock := apptest.NewClock()
	w := &world{rf: rftest.NewTestServer(t, rftest.Options{Clock: clock.Now}), rfDown: &atomic.Bool{}}
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	require.NoError(t, rdb.FlushDB(ctx).Err())
	w.leads = redisLeads{rdb: rdb}
	w.opts = app.Options{Leads: w.leads, RFClient: &http.Client{Transport: unreachable{w.rfDown}, Timeout: 5 * time.Second}}
	w.env = apptest.Start(t, apptest.Options{Clock: clock, Redis: ropts, AppOpts: w.opts,
		Configure: func(c *app.Config) { c.RFBase = w.rf.URL() }})
	w.env.ConfigureHubSpotWebhooks()
	w.b = w.env.Install(hub, 501)
	w.src = w.b.CreateSource(hub, "Spring")

	acct := w.rf.AddAccount()
	camp, err := w.rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	referrer, err := w.rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Rita", Email: "rita@example.com"})
	require.NoError(t, err)
	w.lead, err = w.rf.AddUser(rftest.NewUser{CampaignID: camp.ID, FirstName: "Leo", Email: "leo@example.com", ReferrerID: referrer.ID})
	require.NoError(t, err)
	w.inbound = w.rf.InboundURL(acct.ID)

	c := w.env.Sim.SeedContact(hub, map[string]string{"email": "leo@example.com", "lifecyclestage": "lead"})
	w.contact = c.ID
	w.leads.Seed(t, hub, qualify.Lead{Source: w.src.ID, Code: w.lead.Code, Email: "leo@example.com", ContactID: c.ID})
	w.putRule(t, "customer", http.StatusOK)
	return w
}

func (w *world) putRule(t *testing.T, value string, want int) []byte {
	t.Helper()
	status, body := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/qualification", map[string]any{
		"rf_inbound_url": w.inbound, "when": map[string]string{"object": "contact", "property": "lifecyclestage", "value": value}})
	require.Equal(t, want, status, "%s", body)
	return body
}

// qualifyCalls counts the inbound qualify calls Referral Factory received.
func (w *world) qualifyCalls() int {
	return w.rf.Count(func(r rftest.Request) bool { return r.Endpoint == "webhook.qualify" })
}

// settle processes what HubSpot sent and the qualifications due now.
func (w *world) settle(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	_, err := a.HubSpotInbox().Drain(ctx)
	require.NoError(t, err)
	for {
		n, err := a.Qualifier().Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

// advance moves the clock to the next qualification due, and reports
// whether there was one.
func (w *world) advance(t *testing.T) bool {
	t.Helper()
	due, ok, err := w.env.App.Qualifier().NextDue(context.Background())
	require.NoError(t, err)
	if ok && due.After(w.env.Clock.Now()) {
		w.env.Clock.Advance(due.Sub(w.env.Clock.Now()))
	}
	return ok
}

func (w *world) customer(t *testing.T) {
	t.Helper()
	require.NoError(t, w.env.Sim.SetContactProperty(hub, w.contact, "lifecyclestage", "customer"))
}

func qualification(evs []apptest.Event) []apptest.Event {
	var out []apptest.Event
	for _, ev := range evs {
		for _, f := range ev.Payload {
			if f.Path == "code" {
				out = append(out, ev)
			}
		}
	}
	return out
}

func TestLeadBecomingCustomerIsQualifiedOnce(t *testing.T) {
	w := newWorld(t)
	w.customer(t)
	attempts := w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	require.Len(t, attempts, 1)
	assert.Equal(t, http.StatusNoContent, attempts[0].Status)
	w.settle(t, w.env.App)

	assert.Equal(t, 1, w.qualifyCalls(), "one qualify call")
	u, _ := w.rf.User(w.lead.ID)
	assert.False(t, u.QualifiedAt.IsZero(), "Referral Factory qualified the lead of that code")
	assert.Equal(t, []string{w.src.ID + ":" + w.lead.Code}, w.leads.Qualified(t, hub), "the lead counts as qualified")
	acts := qualification(w.b.Activity(w.src.ID, ""))
	require.Len(t, acts, 1)
	assert.Equal(t, "delivered", acts[0].Status)
	assert.Equal(t, "qualified", acts[0].Outcome)
	assert.Equal(t, "leo@example.com", acts[0].Email)

	// The same change again (the admin sets another stage and back) and
	// HubSpot's retries of old events change nothing.
	require.NoError(t, w.env.Sim.SetContactProperty(hub, w.contact, "lifecyclestage", "opportunity"))
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{Copies: 3})
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls(), "a referral is qualified once")
	assert.Equal(t, 3.0, w.env.Metric("refhub_hubspot_webhook_events_total", "result", "processed"), "three changes")
	assert.Equal(t, 4.0, w.env.Metric("refhub_hubspot_webhook_events_total", "result", "duplicate"), "two more copies of each of the last two")
	assert.Equal(t, 1.0, w.env.Metric("refhub_qualifications_total", "result", "qualified"))
}

func TestOtherValuesAndStrangersQualifyNothing(t *testing.T) {
	w := newWorld(t)
	require.NoError(t, w.env.Sim.SetContactProperty(hub, w.contact, "lifecyclestage", "opportunity"))
	other := w.env.Sim.SeedContact(hub, map[string]string{"email": "nobody@example.com"})
	require.NoError(t, w.env.Sim.SetContactProperty(hub, other.ID, "lifecyclestage", "customer"))
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	assert.Zero(t, w.qualifyCalls(), "neither a value the rule does not name nor a contact that is no lead qualifies")
}

func TestDuplicatesAcrossReplicasQualifyOnce(t *testing.T) {
	w := newWorld(t)
	second, err := app.New(w.env.Config, app.Options{Redis: w.env.Redis, Clock: w.env.Clock, Leads: w.leads,
		RFClient: w.opts.RFClient, Logger: apptest.TestLogger(t)})
	require.NoError(t, err)
	ts := httptest.NewServer(second.HTTPServer().Handler)
	t.Cleanup(ts.Close)

	w.customer(t)
	attempts := w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{Copies: 4, Via: []string{w.env.Server.URL, ts.URL}})
	require.Len(t, attempts, 4)
	for _, a := range attempts {
		assert.Equal(t, http.StatusNoContent, a.Status, "copy to %s", a.URL)
	}
	w.settle(t, second)
	w.settle(t, w.env.App)
	w.settle(t, second)
	assert.Equal(t, 1, w.qualifyCalls(), "four copies over two replicas: one call")
	assert.Len(t, qualification(w.b.Activity(w.src.ID, "")), 1, "one qualification in the activity")
}

func TestReferralFactoryDownIsRetried(t *testing.T) {
	w := newWorld(t)
	w.rfDown.Store(true)
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	acts := qualification(w.b.Activity(w.src.ID, ""))
	require.Len(t, acts, 1)
	assert.Equal(t, "queued", acts[0].Status)
	assert.Equal(t, 1, acts[0].Attempts)
	assert.Contains(t, acts[0].Reason, "did not take it yet")

	for i := 0; i < 3; i++ { // three more failures, each after a longer wait
		before := w.env.Clock.Now()
		require.True(t, w.advance(t))
		assert.Greater(t, w.env.Clock.Now().Sub(before), 29*time.Second, "retries back off")
		w.settle(t, w.env.App)
	}
	assert.Zero(t, w.qualifyCalls(), "nothing reached Referral Factory while it was down")
	w.rfDown.Store(false)
	require.True(t, w.advance(t))
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls())
	acts = qualification(w.b.Activity(w.src.ID, ""))
	require.Len(t, acts, 1)
	assert.Equal(t, "delivered", acts[0].Status)
	assert.Equal(t, 5, acts[0].Attempts)
	assert.False(t, w.advance(t), "nothing left to do")
}

func TestReferralFactoryDownForTheWholeWindowIsADeadLetter(t *testing.T) {
	w := newWorld(t)
	w.rfDown.Store(true)
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	start := w.env.Clock.Now()
	for w.advance(t) {
		w.settle(t, w.env.App)
		require.Less(t, w.env.Clock.Now().Sub(start), w.env.Config.RetryFor+2*time.Hour, "gave up in time")
	}
	w.b = w.env.Install(hub, 501) // three days later: signed in again
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].Reason, "could not be reached")
	assert.NotEmpty(t, dead[0].Fix)
}

func TestReferralFactoryRefusingIsADeadLetterWithItsReason(t *testing.T) {
	w := newWorld(t)
	// Referral Factory does not know this code: the lead is not its lead.
	w.leads.Seed(t, hub, qualify.Lead{Source: w.src.ID, Code: "NOSUCHCODE", Email: "leo@example.com", ContactID: w.contact})
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls(), "a refusal is not retried")
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].Reason, "The selected code is invalid.")
	assert.Equal(t, "leo@example.com", dead[0].Email)
	assert.Empty(t, w.leads.Qualified(t, hub), "nothing counted")
	assert.False(t, w.advance(t), "nothing retried")

	// A regenerated inbound URL: Referral Factory answers 404.
	w.leads.Seed(t, hub, qualify.Lead{Source: w.src.ID, Code: w.lead.Code, Email: "leo@example.com", ContactID: w.contact})
	acct := w.rf.AddAccount()
	right := w.inbound
	w.inbound = w.rf.InboundURL(acct.ID)[:len(w.rf.URL())] + "/webhook/regenerated-token/qualify"
	w.putRule(t, "customer", http.StatusOK)
	require.NoError(t, w.env.Sim.SetContactProperty(hub, w.contact, "lifecyclestage", "opportunity"))
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	dead = w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 2)
	assert.Contains(t, dead[0].Reason+dead[1].Reason, "does not know this inbound webhook URL")

	// The admin puts the right URL back and replays: the referral is
	// qualified (once); the unknown code is refused again.
	w.inbound = right
	w.putRule(t, "customer", http.StatusOK)
	var out struct {
		Replayed int `json:"replayed"`
	}
	w.b.JSON(http.MethodPost, "/api/v1/sources/"+w.src.ID+"/dead-letters/replay", nil, http.StatusOK, &out)
	assert.Equal(t, 2, out.Replayed)
	w.settle(t, w.env.App)
	assert.Equal(t, 4, w.qualifyCalls(), "each replayed once")
	u, _ := w.rf.User(w.lead.ID)
	assert.False(t, u.QualifiedAt.IsZero())
	dead = w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].Reason, "The selected code is invalid.")
	w.b.JSON(http.MethodPost, "/api/v1/sources/"+w.src.ID+"/dead-letters/replay", nil, http.StatusOK, &out)
	w.settle(t, w.env.App)
	assert.Equal(t, 5, w.qualifyCalls(), "the qualified referral is not sent again")
}

func TestForgedAndStaleWebhooksChangeNothing(t *testing.T) {
	w := newWorld(t)
	w.customer(t)
	for _, mode := range []hubspottest.SignatureMode{hubspottest.SignWrongSecret, hubspottest.SignStale,
		hubspottest.SignUnsigned, hubspottest.SignTamperedBody, hubspottest.SignOtherURI} {
		t.Run(mode.String(), func(t *testing.T) {
			attempts := w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{Signature: mode})
			require.Len(t, attempts, 1)
			assert.Equal(t, http.StatusUnauthorized, attempts[0].Status)
			n, err := w.env.App.HubSpotInbox().Pending(context.Background())
			require.NoError(t, err)
			assert.Zero(t, n, "nothing stored")
			w.settle(t, w.env.App)
			assert.Zero(t, w.qualifyCalls(), "no call")
		})
	}
	assert.Equal(t, 5.0, w.env.Metric("refhub_hubspot_webhook_requests_total", "result", "forged")+
		w.env.Metric("refhub_hubspot_webhook_requests_total", "result", "stale")+
		w.env.Metric("refhub_hubspot_webhook_requests_total", "result", "unsigned"))
}

func TestEventsOfUnknownPortalsAreDropped(t *testing.T) {
	w := newWorld(t)
	stranger := w.env.Sim.SeedContact(2002, map[string]string{"email": "x@globex.test"}) // 2002 never installed
	require.NoError(t, w.env.Sim.SetContactProperty(2002, stranger.ID, "lifecyclestage", "customer"))
	attempts := w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	require.Len(t, attempts, 1)
	assert.Equal(t, http.StatusNoContent, attempts[0].Status, "answered, so HubSpot does not retry it for a day")
	n, err := w.env.App.HubSpotInbox().Pending(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1.0, w.env.Metric("refhub_hubspot_webhook_events_total", "result", "unknown_portal"))
}

func TestRuleIsValidatedAndShownRedacted(t *testing.T) {
	w := newWorld(t)
	var v qualify.View
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID+"/qualification", nil, http.StatusOK, &v)
	assert.NotContains(t, v.InboundURL, w.inbound[len(w.rf.URL())+len("/webhook/"):len(w.inbound)-len("/qualify")], "the token is not shown")
	assert.Equal(t, qualify.Condition{Object: "contact", Property: "lifecyclestage", Value: "customer"}, v.When)
	assert.False(t, v.ReconnectNeeded)
	raw, err := w.env.Redis.Get(context.Background(), "{s:"+w.src.ID+"}:qualify").Result()
	require.NoError(t, err)
	assert.NotContains(t, raw, "/webhook/", "stored sealed")

	cases := map[string]map[string]any{
		"another host": {"rf_inbound_url": "https://evil.example/webhook/abc/qualify",
			"when": map[string]string{"object": "contact", "property": "lifecyclestage", "value": "customer"}},
		"unwatched property": {"rf_inbound_url": w.inbound,
			"when": map[string]string{"object": "contact", "property": "firstname", "value": "x"}},
		"unknown object": {"rf_inbound_url": w.inbound,
			"when": map[string]string{"object": "ticket", "property": "hs_pipeline_stage", "value": "x"}},
		"no value": {"rf_inbound_url": w.inbound,
			"when": map[string]string{"object": "contact", "property": "lifecyclestage", "value": ""}},
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			status, out := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/qualification", body)
			assert.Equal(t, http.StatusUnprocessableEntity, status, "%s", out)
		})
	}
	var p qualify.Preview
	w.b.JSON(http.MethodPost, "/api/v1/sources/"+w.src.ID+"/qualification/test", map[string]string{"code": "ABC"}, http.StatusOK, &p)
	assert.Equal(t, "code=ABC", p.Body)
	assert.Zero(t, w.qualifyCalls(), "the test sends nothing")

	// A deal rule on a portal installed without deal access asks for a reconnect.
	status, out := w.b.Do(http.MethodPut, "/api/v1/sources/"+w.src.ID+"/qualification", map[string]any{
		"rf_inbound_url": w.inbound, "when": map[string]string{"object": "deal", "property": "dealstage", "value": "closedwon"}})
	require.Equal(t, http.StatusOK, status, "%s", out)
	assert.Contains(t, string(out), `"reconnect_needed":false`, "this install granted deal access")
}
