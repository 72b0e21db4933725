package hubspot_test

import (
	"bytes"
	"context"
	"github.com/refhub/refhub/internal/clocktest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

const (
	hubAcme     int64 = 101
	userAdmin   int64 = 1
	callbackURL       = "https://refhub.example.com/oauth/callback"
)

func newClock() *clocktest.Clock { return clocktest.New(time.Now().Truncate(time.Second)) }

// recorded is one request as the client sent it.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Form parses a form-encoded body.
func (r recorded) Form(t *testing.T) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(r.Body))
	require.NoError(t, err)
	return v
}

// recorder is an HTTP server that records each request, then hands it to
// next (the simulator or a fake).
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

func newRecorder(t *testing.T, next http.Handler) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: body})
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) URL() string { return r.srv.URL }

// Requests returns what was recorded so far.
func (r *recorder) Requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// Last returns the last recorded request.
func (r *recorder) Last(t *testing.T) recorded {
	t.Helper()
	reqs := r.Requests()
	require.NotEmpty(t, reqs, "no request was recorded")
	return reqs[len(reqs)-1]
}

// countingLimiter records Wait and Observe calls.
type countingLimiter struct {
	mu       sync.Mutex
	waits    int
	observed []hubspot.Announced
	hubs     []int64
	err      error
}

func (l *countingLimiter) Wait(_ context.Context, hubID int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	l.hubs = append(l.hubs, hubID)
	return l.err
}

func (l *countingLimiter) Observe(_ int64, a hubspot.Announced) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observed = append(l.observed, a)
}

func (l *countingLimiter) Waits() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits
}

func (l *countingLimiter) Observed() []hubspot.Announced {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hubspot.Announced(nil), l.observed...)
}

// env is a simulator with one portal behind a recording server, and a
// client pointed at it.
type env struct {
	t       *testing.T
	sim     *hubspottest.Server
	rec     *recorder
	clock   *clocktest.Clock
	client  *hubspot.Client
	access  string
	refresh string
	limiter *countingLimiter
	portal  *hubspot.Portal
}

func newEnv(t *testing.T, mods ...func(*hubspottest.Options)) *env {
	t.Helper()
	clock := newClock()
	opts := hubspottest.Options{RedirectURIs: []string{callbackURL}, Clock: clock.Now}
	for _, m := range mods {
		m(&opts)
	}
	sim := hubspottest.NewTestServer(t, opts)
	sim.AddPortal(hubspottest.Portal{HubID: hubAcme, Domain: "acme.hubspot.com",
		Users: []hubspottest.User{{ID: userAdmin, Email: "admin@acme.test"}}})
	rec := newRecorder(t, sim.Handler())
	e := &env{t: t, sim: sim, rec: rec, clock: clock, limiter: &countingLimiter{}}
	e.client = hubspot.New(hubspot.Config{
		APIBase: rec.URL(), AppBase: rec.URL(),
		ClientID: "test-client-id", ClientSecret: "test-client-secret",
	})
	e.access, e.refresh = sim.IssueTokens(hubAcme, userAdmin, nil)
	e.portal = e.client.Portal(hubAcme, e.tokenFunc(), e.limiter)
	return e
}

// tokenFunc returns the env's current access token.
func (e *env) tokenFunc() hubspot.TokenFunc {
	return func(context.Context) (string, error) { return e.access, nil }
}

// fakeHubSpot serves handler on a recording server and returns a client
// pointed at it, for response shapes the simulator does not produce.
func fakeHubSpot(t *testing.T, handler http.HandlerFunc) (*hubspot.Client, *recorder) {
	t.Helper()
	rec := newRecorder(t, handler)
	return hubspot.New(hubspot.Config{APIBase: rec.URL(), AppBase: rec.URL(),
		ClientID: "cid", ClientSecret: "secret"}), rec
}

// respond writes a JSON body with status and headers (name, value pairs).
func respond(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func staticToken(token string) hubspot.TokenFunc {
	return func(context.Context) (string, error) { return token, nil }
}
