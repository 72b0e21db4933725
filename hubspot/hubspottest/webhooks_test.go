package hubspottest_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func TestWebhookConfigRefusals(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.DeliverWebhooks(context.Background())
	require.Error(t, err, "nothing to deliver to before configuration")
	cases := map[string]hubspottest.WebhookConfig{
		"plain http":       {TargetURL: "http://refhub.example.com/hooks"},
		"relative":         {TargetURL: "/hooks"},
		"unknown type":     {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{active("contact.tickled", "")}},
		"no property":      {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{active("contact.propertyChange", "")}},
		"deal privacy":     {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{active("deal.privacyDeletion", "")}},
		"generic untyped":  {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{active("object.propertyChange", "dealstage")}},
		"property on hub":  {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{active("contact.privacyDeletion", "email")}},
		"legacy with type": {TargetURL: "https://x.test/h", Subscriptions: []hubspottest.WebhookSubscription{{SubscriptionType: "contact.deletion", ObjectType: "contact"}}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) { assert.Error(t, e.s.ConfigureWebhooks(cfg)) })
	}
	assert.NoError(t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: "https://refhub.example.com/hooks/hubspot"}))
	assert.NoError(t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: "http://localhost:8080/hooks/hubspot"}))
}

func TestContactPropertyChangeIsSignedAndDelivered(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t)
	e.hooks(r, active("contact.propertyChange", "lifecyclestage"),
		hubspottest.WebhookSubscription{SubscriptionType: "contact.propertyChange", PropertyName: "firstname"})
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "lead@x.test", "lifecyclestage": "lead"})

	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "firstname", "Ann"), "an inactive subscription sends nothing")
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"), "no change, no event")
	assert.Error(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "vip"), "not an option")
	assert.Error(t, e.s.SetContactProperty(hubAcme, "42", "lifecyclestage", "lead"), "no such contact")
	got, _ := e.s.ContactByEmail(hubAcme, "lead@x.test")
	assert.Equal(t, "customer", got.Properties["lifecyclestage"])
	require.Len(t, e.s.PendingWebhooks(), 1)

	attempts, err := e.s.DeliverWebhooks(context.Background())
	require.NoError(t, err)
	require.Len(t, attempts, 1)
	assert.True(t, attempts[0].OK())
	reqs := r.requests()
	require.Len(t, reqs, 1)
	req := reqs[0]
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/hooks/hubspot", req.URI)
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	ts := req.Header.Get("X-HubSpot-Request-Timestamp")
	assert.Equal(t, strconv.FormatInt(e.clock.Now().UnixMilli(), 10), ts, "milliseconds by the simulator's clock")
	assert.Equal(t, expectedV3("test-client-secret", http.MethodPost, r.srv.URL+"/hooks/hubspot", req.Body, ts),
		req.Header.Get("X-HubSpot-Signature-v3"))
	evs := req.events(t)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, "contact.propertyChange", ev.SubscriptionType)
	assert.Equal(t, hubAcme, ev.PortalID)
	assert.Equal(t, int64(4242), ev.AppID)
	assert.Equal(t, c.ID, strconv.FormatInt(ev.ObjectID, 10))
	assert.Equal(t, "lifecyclestage", ev.PropertyName)
	assert.Equal(t, "customer", *ev.PropertyValue)
	assert.Equal(t, 0, ev.AttemptNumber)
	assert.Equal(t, "CRM_UI", ev.ChangeSource)
	assert.Equal(t, fmt.Sprint("userId:", userAdmin), ev.SourceID)
	assert.Equal(t, e.clock.Now().UnixMilli(), ev.OccurredAt)
	assert.NotZero(t, ev.EventID)
	assert.NotZero(t, ev.SubscriptionID)
	assert.Contains(t, string(req.Body), `"eventId":`, "HubSpot's field names")
	assert.Empty(t, e.s.PendingWebhooks(), "a 2xx delivers the batch")

	again, err := e.s.DeliverWebhooks(context.Background())
	require.NoError(t, err)
	assert.Empty(t, again, "nothing is sent twice")
}

func TestDealStageAndPrivacyEvents(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t)
	e.hooks(r, hubspottest.WebhookSubscription{SubscriptionType: "object.propertyChange", ObjectType: "deal", PropertyName: "dealstage", Active: true},
		active("contact.privacyDeletion", ""))
	d := e.s.SeedDeal(hubAcme, map[string]string{"dealname": "d", "dealstage": "appointmentscheduled"})
	assert.Error(t, e.s.MoveDealStage(hubAcme, d.ID, "partner_won"), "not a stage of the deal's pipeline")
	require.NoError(t, e.s.MoveDealStage(hubAcme, d.ID, "closedwon"))
	deal, _ := e.s.DealByProperty(hubAcme, "hs_object_id", d.ID)
	assert.Equal(t, "closedwon", deal.Properties["dealstage"])

	c1 := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	c2 := e.s.SeedContact(hubAcme, map[string]string{"email": "b@x.test"})
	require.NoError(t, e.s.GDPRDeleteContact(hubAcme, c1.ID))
	at := e.token(hubAcme)
	require.Equal(t, http.StatusNoContent, e.postJSON("/crm/objects/2026-03/contacts/gdpr-delete", at, map[string]string{"objectId": c2.ID}).status)

	_, err := e.s.DeliverWebhooks(context.Background())
	require.NoError(t, err)
	require.Len(t, r.requests(), 1, "queued events go in one batch")
	evs := r.requests()[0].events(t)
	require.Len(t, evs, 3)
	assert.Equal(t, "object.propertyChange", evs[0].SubscriptionType)
	assert.Equal(t, "0-3", evs[0].ObjectTypeID)
	assert.Equal(t, d.ID, strconv.FormatInt(evs[0].ObjectID, 10))
	assert.Equal(t, "closedwon", *evs[0].PropertyValue)
	assert.Equal(t, "contact.privacyDeletion", evs[1].SubscriptionType)
	assert.Equal(t, c1.ID, strconv.FormatInt(evs[1].ObjectID, 10))
	assert.Equal(t, "CRM_UI", evs[1].ChangeSource)
	assert.Equal(t, c2.ID, strconv.FormatInt(evs[2].ObjectID, 10))
	assert.Equal(t, "INTEGRATION", evs[2].ChangeSource, "a deletion through the API is the app's")
	assert.NotEqual(t, evs[1].EventID, evs[2].EventID)
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, http.StatusInternalServerError, http.StatusUnauthorized)
	e.hooks(r, active("contact.propertyChange", "lifecyclestage"))
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	ctx := context.Background()

	first, err := e.s.DeliverWebhooks(ctx)
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, http.StatusInternalServerError, first[0].Status)
	pending := e.s.PendingWebhooks()
	require.Len(t, pending, 1)
	assert.Equal(t, 1, pending[0].Event.AttemptNumber)
	wait := pending[0].Due.Sub(e.clock.Now())
	assert.True(t, wait >= time.Minute && wait <= 75*time.Second, "first retry after about a minute, got %s", wait)

	none, _ := e.s.DeliverWebhooks(ctx)
	assert.Empty(t, none, "not due yet")
	e.clock.Advance(wait)
	second, _ := e.s.DeliverWebhooks(ctx)
	require.Len(t, second, 1)
	assert.Equal(t, http.StatusUnauthorized, second[0].Status, "4xx is retried too")
	pending = e.s.PendingWebhooks()
	require.Len(t, pending, 1)
	wait2 := pending[0].Due.Sub(e.clock.Now())
	assert.True(t, wait2 >= 5*time.Minute && wait2 > wait, "the backoff grows, got %s", wait2)

	e.clock.Advance(wait2)
	third, _ := e.s.DeliverWebhooks(ctx)
	require.Len(t, third, 1)
	assert.True(t, third[0].OK())
	reqs := r.requests()
	require.Len(t, reqs, 3)
	ids := map[int64]bool{}
	for i, req := range reqs {
		ev := req.events(t)[0]
		ids[ev.EventID] = true
		assert.Equal(t, i, ev.AttemptNumber)
	}
	assert.Len(t, ids, 1, "a retry keeps the event id")
	assert.Empty(t, e.s.PendingWebhooks())
}

func TestWebhookTimeoutIsAFailure(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t)
	r.hold = make(chan struct{})
	defer close(r.hold)
	require.NoError(t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: r.srv.URL + "/h", Timeout: 50 * time.Millisecond,
		Subscriptions: []hubspottest.WebhookSubscription{active("contact.propertyChange", "lifecyclestage")}}))
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	attempts, err := e.s.DeliverWebhooks(context.Background())
	require.NoError(t, err)
	require.Len(t, attempts, 1)
	assert.False(t, attempts[0].OK())
	assert.NotEmpty(t, attempts[0].Err)
	require.Len(t, e.s.PendingWebhooks(), 1, "a slow answer is retried")
	assert.Equal(t, 1, e.s.PendingWebhooks()[0].Event.AttemptNumber)
}

func TestWebhookDroppedAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, 503, 503, 503, 503)
	require.NoError(t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: r.srv.URL + "/h", MaxAttempts: 3,
		Subscriptions: []hubspottest.WebhookSubscription{active("contact.propertyChange", "lifecyclestage")}}))
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	for range 3 {
		_, err := e.s.DeliverWebhooks(context.Background())
		require.NoError(t, err)
		e.clock.Advance(24 * time.Hour)
	}
	assert.Len(t, r.requests(), 3)
	assert.Empty(t, e.s.PendingWebhooks())
	dropped := e.s.DroppedWebhooks()
	require.Len(t, dropped, 1)
	assert.Equal(t, 3, dropped[0].AttemptNumber)
}

func TestForgedDeliveriesLeaveTheQueue(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, 401, 401, 401, 401, 401)
	e.hooks(r, active("contact.propertyChange", "lifecyclestage"))
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	target := r.srv.URL + "/hooks/hubspot"
	now := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	for _, mode := range []hubspottest.SignatureMode{hubspottest.SignWrongSecret, hubspottest.SignStale,
		hubspottest.SignUnsigned, hubspottest.SignTamperedBody, hubspottest.SignOtherURI} {
		t.Run(mode.String(), func(t *testing.T) {
			before := len(r.requests())
			_, err := e.s.DeliverWebhooksWith(context.Background(), hubspottest.Delivery{Signature: mode})
			require.NoError(t, err)
			reqs := r.requests()
			require.Len(t, reqs, before+1)
			req := reqs[len(reqs)-1]
			sig, ts := req.Header.Get("X-HubSpot-Signature-v3"), req.Header.Get("X-HubSpot-Request-Timestamp")
			switch mode {
			case hubspottest.SignUnsigned:
				assert.Empty(t, sig)
				assert.Empty(t, ts)
			case hubspottest.SignStale:
				assert.Equal(t, strconv.FormatInt(e.clock.Now().Add(-301*time.Second).UnixMilli(), 10), ts)
				assert.Equal(t, expectedV3("test-client-secret", "POST", target, req.Body, ts), sig, "validly signed, only old")
			default:
				assert.Equal(t, now, ts)
				assert.NotEqual(t, expectedV3("test-client-secret", "POST", target, req.Body, ts), sig)
			}
			pending := e.s.PendingWebhooks()
			require.Len(t, pending, 1, "a forgery is not HubSpot's attempt")
			assert.Equal(t, 0, pending[0].Event.AttemptNumber)
			assert.False(t, pending[0].Due.After(e.clock.Now()))
		})
	}
	attempts, _ := e.s.DeliverWebhooks(context.Background())
	require.Len(t, attempts, 1)
	assert.True(t, attempts[0].OK(), "the real delivery follows")
}

func TestDuplicatesViaReplicas(t *testing.T) {
	e := newEnv(t)
	a, b := newReceiver(t), newReceiver(t)
	const target = "https://refhub.example.test/hooks/hubspot?v=1"
	require.NoError(t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: target,
		Subscriptions: []hubspottest.WebhookSubscription{active("contact.propertyChange", "lifecyclestage")}}))
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "customer"))
	attempts, err := e.s.DeliverWebhooksWith(context.Background(), hubspottest.Delivery{Copies: 2, Via: []string{a.srv.URL, b.srv.URL}})
	require.NoError(t, err)
	require.Len(t, attempts, 2)
	for _, rec := range []*hookReceiver{a, b} {
		reqs := rec.requests()
		require.Len(t, reqs, 1)
		req := reqs[0]
		assert.Equal(t, "refhub.example.test", req.Host, "the public host, as a load balancer passes it")
		assert.Equal(t, "/hooks/hubspot?v=1", req.URI)
		assert.Equal(t, expectedV3("test-client-secret", "POST", target, req.Body, req.Header.Get("X-HubSpot-Request-Timestamp")),
			req.Header.Get("X-HubSpot-Signature-v3"), "signed over the public URL")
	}
	assert.Equal(t, a.requests()[0].Body, b.requests()[0].Body, "the same event twice")
	assert.Empty(t, e.s.PendingWebhooks())
}

func TestWebhookBatchesHoldAHundredEvents(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t)
	e.hooks(r, active("contact.propertyChange", "lifecyclestage"))
	for i := range 150 {
		c := e.s.SeedContact(hubAcme, map[string]string{"email": fmt.Sprintf("c%d@x.test", i)})
		require.NoError(t, e.s.SetContactProperty(hubAcme, c.ID, "lifecyclestage", "lead"))
	}
	_, err := e.s.DeliverWebhooks(context.Background())
	require.NoError(t, err)
	reqs := r.requests()
	require.Len(t, reqs, 2)
	assert.Len(t, reqs[0].events(t), 100)
	assert.Len(t, reqs[1].events(t), 50)
}

func TestParseWebhooksComponent(t *testing.T) {
	raw := []byte(`{"uid":"refhub_webhooks","type":"webhooks","config":{
		"settings":{"targetUrl":"https://refhub.example.com/hooks/hubspot","maxConcurrentRequests":10},
		"subscriptions":{
			"crmObjects":[{"subscriptionType":"object.propertyChange","objectType":"deal","propertyName":"dealstage","active":true}],
			"legacyCrmObjects":[{"subscriptionType":"contact.propertyChange","propertyName":"lifecyclestage","active":true}],
			"hubEvents":[{"subscriptionType":"contact.privacyDeletion","active":true}]}}}`)
	cfg, err := hubspottest.ParseWebhooksComponent(raw)
	require.NoError(t, err)
	assert.Equal(t, "https://refhub.example.com/hooks/hubspot", cfg.TargetURL)
	assert.Equal(t, 10, cfg.MaxConcurrentRequests)
	assert.Equal(t, []hubspottest.WebhookSubscription{
		{SubscriptionType: "object.propertyChange", ObjectType: "deal", PropertyName: "dealstage", Active: true},
		{SubscriptionType: "contact.propertyChange", PropertyName: "lifecyclestage", Active: true},
		{SubscriptionType: "contact.privacyDeletion", Active: true},
	}, cfg.Subscriptions)

	for name, bad := range map[string]string{
		"typo":     `{"uid":"w","type":"webhooks","config":{"subscriptions":{"hubEvent":[]}}}`,
		"app":      `{"uid":"w","type":"app","config":{}}`,
		"no prop":  `{"uid":"w","type":"webhooks","config":{"subscriptions":{"legacyCrmObjects":[{"subscriptionType":"contact.propertyChange","active":true}]}}}`,
		"not JSON": `{`,
		"no uid":   `{"type":"webhooks","config":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := hubspottest.ParseWebhooksComponent([]byte(bad))
			assert.Error(t, err)
		})
	}
}
