package rftest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver records what outbound webhooks bring.
type receiver struct {
	srv    *httptest.Server
	status int
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.bodies = append(rc.bodies, b)
		rc.mu.Unlock()
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []*http.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.got...)
}

func (rc *receiver) json(t *testing.T, i int) map[string]any {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.Greater(t, len(rc.bodies), i)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rc.bodies[i], &m))
	return m
}

func hookFixture(t *testing.T) *fixture {
	return newFixture(t, Options{AllowHTTPWebhooks: true}, 0, 0)
}

func TestOutboundWebhooksForJoinsAndQualification(t *testing.T) {
	f := hookFixture(t)
	refs, leads, quals := newReceiver(t, 200), newReceiver(t, 200), newReceiver(t, 200)
	hdrs := map[string]string{"X-Refhub-Secret": "s3cret", "X-Two": "2", "X-Three": "3"}
	for ev, rc := range map[Event]*receiver{EventReferrerJoins: refs, EventLeadCreated: leads, EventLeadQualified: quals} {
		_, err := f.s.AddWebhook(f.c1.ID, Webhook{URL: rc.srv.URL + "/hooks/x", Event: ev, Headers: hdrs})
		require.NoError(t, err)
	}
	ref, lead := pair(t, f)
	_, err := f.s.AddUser(NewUser{CampaignID: f.c2.ID, Email: "elsewhere@example.test"})
	require.NoError(t, err)
	resp, _ := postForm(t, f.s.InboundURL(f.acct.ID), url.Values{"code": {lead.Code}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	postForm(t, f.s.InboundURL(f.acct.ID), url.Values{"code": {lead.Code}})
	f.s.Wait()

	require.Len(t, refs.requests(), 1, "only campaign 1's referrer")
	require.Len(t, leads.requests(), 1)
	require.Len(t, quals.requests(), 1, "qualified once, sent once")
	assert.Equal(t, "application/json", refs.requests()[0].Header.Get("Content-Type"))
	assert.Equal(t, "s3cret", refs.requests()[0].Header.Get("X-Refhub-Secret"))

	r := refs.json(t, 0)
	assert.EqualValues(t, ref.ID, r["id"])
	assert.Equal(t, "person_referring", r["type"])
	assert.Equal(t, "Spring", r["campaign_name"])
	assert.Nil(t, r["referrer_id"])
	assert.NotContains(t, r, "referrer_email")

	l := leads.json(t, 0)
	assert.Equal(t, "person_invited", l["type"])
	assert.EqualValues(t, ref.ID, l["referrer_id"])
	assert.Equal(t, "Ann", l["referrer_first_name"])
	assert.Equal(t, "ann@example.test", l["referrer_email"])
	assert.Equal(t, ref.Code, l["referrer_code"])
	assert.Equal(t, ref.URL, l["referrer_url"])
	assert.Nil(t, l["qualified_at"])

	q := quals.json(t, 0)
	assert.EqualValues(t, lead.ID, q["id"])
	assert.Equal(t, "2026-03-09T10:00:00.000000Z", q["qualified_at"])
	assert.Len(t, f.s.Deliveries(), 3)
}

func TestOutboundWebhookOptions(t *testing.T) {
	f := hookFixture(t)
	rc := newReceiver(t, 200)
	_, err := f.s.AddWebhook(f.c1.ID, Webhook{URL: rc.srv.URL, Event: EventUserJoins, Sources: []string{"Referred"},
		Fields: []string{"email", "code", "referrer"}, Rename: map[string]string{"email": "email_address"},
		Hidden: map[string]string{"list": "rf"}, NestedReferrer: true})
	require.NoError(t, err)
	ref, lead := pair(t, f)
	f.s.Wait()
	require.Len(t, rc.requests(), 1, "the Direct referrer is filtered out by source")
	assert.Equal(t, map[string]any{"email_address": lead.Email, "code": lead.Code, "list": "rf",
		"referrer": map[string]any{"id": float64(ref.ID), "first_name": "Ann", "email": ref.Email, "code": ref.Code, "url": ref.URL}},
		rc.json(t, 0))
}

func TestOutboundWebhookGETAndNoRetries(t *testing.T) {
	f := hookFixture(t)
	rc := newReceiver(t, http.StatusInternalServerError)
	_, err := f.s.AddWebhook(f.c1.ID, Webhook{URL: rc.srv.URL + "/in?src=rf", Method: "get", Event: EventUserJoins})
	require.NoError(t, err)
	_, err = f.s.AddUser(NewUser{CampaignID: f.c1.ID, FirstName: "Ann", Email: "ann@example.test",
		Meta: []Meta{{Field: "Company", Value: "Acme"}}})
	require.NoError(t, err)
	f.s.Wait()
	require.Len(t, rc.requests(), 1, "a failed delivery is not retried")
	q := rc.requests()[0].URL.Query()
	assert.Equal(t, "GET", rc.requests()[0].Method)
	assert.Equal(t, "rf", q.Get("src"))
	assert.Equal(t, "ann@example.test", q.Get("email"))
	assert.Equal(t, "Company", q.Get("meta[0][field]"))
	assert.Equal(t, "Acme", q.Get("meta[0][value]"))
	assert.False(t, q.Has("referrer_id"), "nulls are left out of a query")
	d := f.s.Deliveries()
	require.Len(t, d, 1)
	assert.Equal(t, http.StatusInternalServerError, d[0].Status)
}

func TestAddWebhookRefusals(t *testing.T) {
	f := newFixture(t, Options{}, 0, 0)
	four := map[string]string{"A": "1", "B": "2", "C": "3", "D": "4"}
	for name, w := range map[string]Webhook{
		"http":         {URL: "http://example.test/x", Event: EventLeadCreated},
		"not a URL":    {URL: "::", Event: EventLeadCreated},
		"4 headers":    {URL: "https://example.test/x", Event: EventLeadCreated, Headers: four},
		"method":       {URL: "https://example.test/x", Event: EventLeadCreated, Method: "PUT"},
		"unknown verb": {URL: "https://example.test/x", Event: "A reward is issued"},
	} {
		_, err := f.s.AddWebhook(f.c1.ID, w)
		assert.Error(t, err, name)
	}
	_, err := f.s.AddWebhook(9999, Webhook{URL: "https://example.test/x", Event: EventLeadCreated})
	assert.Error(t, err)
	id, err := f.s.AddWebhook(f.c1.ID, Webhook{URL: "https://example.test/x", Event: EventLeadCreated})
	require.NoError(t, err)
	assert.True(t, f.s.RemoveWebhook(id))
	assert.False(t, f.s.RemoveWebhook(id))
}
