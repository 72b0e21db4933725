package hubspottest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// hookRequest is one webhook request as the receiver saw it.
type hookRequest struct {
	Method, Host, URI string
	Header            http.Header
	Body              []byte
}

// events decodes the batch.
func (h hookRequest) events(t *testing.T) []hubspottest.WebhookEvent {
	t.Helper()
	var evs []hubspottest.WebhookEvent
	require.NoError(t, json.Unmarshal(h.Body, &evs), "body: %s", h.Body)
	return evs
}

// hookReceiver is an app endpoint that records requests and answers with
// the statuses it is given in turn (200 once they run out).
type hookReceiver struct {
	t        *testing.T
	mu       sync.Mutex
	reqs     []hookRequest
	statuses []int
	hold     chan struct{} // when set, answers wait for it or for the client to give up
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{t: t, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, hookRequest{Method: req.Method, Host: req.Host, URI: req.URL.RequestURI(),
		Header: req.Header.Clone(), Body: body})
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(status)
}

func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// expectedV3 computes HubSpot's v3 signature independently of the
// simulator: base64(HMAC-SHA256(secret, method + uri + body + timestamp)).
func expectedV3(secret, method, uri string, body []byte, ts string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri + string(body) + ts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// hookEnv is a simulator env whose webhooks go to a receiver.
func (e *env) hooks(r *hookReceiver, subs ...hubspottest.WebhookSubscription) {
	e.t.Helper()
	require.NoError(e.t, e.s.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: r.srv.URL + "/hooks/hubspot", Subscriptions: subs}))
}

func active(typ, prop string) hubspottest.WebhookSubscription {
	return hubspottest.WebhookSubscription{SubscriptionType: typ, PropertyName: prop, Active: true}
}
