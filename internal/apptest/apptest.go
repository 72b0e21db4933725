// Package apptest starts refhub for tests: the HubSpot simulator over real
// HTTP, a private redis-server database, and the app on a loopback port,
// plus a browser-like client that installs the app through the simulator.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

// Env is a running refhub with its simulated HubSpot.
type Env struct {
	T      testing.TB
	Sim    *hubspottest.Server
	App    *app.App
	Server *httptest.Server
	Redis  *redis.Client
	Config app.Config
	// Clock is the simulated clock of refhub and the simulator, nil when
	// they run on real time (Options.Clock).
	Clock *clocktest.Clock
	stop  []func()
}

// Options tune an Env.
type Options struct {
	Sim       hubspottest.Options // ClientID, secret and redirect URIs are filled in
	Portals   []hubspottest.Portal
	Delivery  bool // run the delivery engine in the background
	Workers   int  // default 4
	Configure func(*app.Config)
	AppOpts   app.Options
	Redis     *redis.Options // default: a fresh database of the package's redis-server
	// Clock puts refhub and the simulator on simulated time: both read it,
	// the rate limiter waits on it, and Step, DeliverFor and Drain move it
	// to the next due lane instead of sleeping. Background delivery
	// (Delivery, StartDelivery) runs on real timers: do not mix the two.
	Clock *clocktest.Clock
}

// DefaultPortals are two portals with one admin each.
var DefaultPortals = []hubspottest.Portal{
	{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}}},
	{HubID: 2002, Domain: "globex.hubspot.test", Users: []hubspottest.User{{ID: 602, Email: "admin@globex.test"}}},
}

// MetricsToken is the bearer token /metrics asks for in an Env.
const MetricsToken = "apptest-metrics-token-0123456789"

// Start starts refhub and the simulator; everything stops when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	public := "http://" + ts.Listener.Addr().String()
	so := o.Sim
	so.ClientID, so.ClientSecret = "refhub-test", "refhub-test-secret"
	so.RedirectURIs = []string{oauth.RedirectURI(public)}
	if so.RequiredScopes == nil {
		so.RequiredScopes = install.Scopes() // the app as declared in hubspot-app.json
	}
	if o.Clock != nil {
		so.Clock = o.Clock.Now
	}
	sim := hubspottest.NewTestServer(t, so)
	portals := o.Portals
	if portals == nil {
		portals = DefaultPortals
	}
	for _, p := range portals {
		sim.AddPortal(p)
	}
	ropts := o.Redis
	if ropts == nil {
		ropts = redistest.Options(t)
	}
	workers := o.Workers
	if workers == 0 {
		workers = 4
	}
	// The configuration `refhub serve` would read, defaults included.
	vars := map[string]string{
		"REFHUB_ADDR": ts.Listener.Addr().String(), "REFHUB_PUBLIC_URL": public,
		"REFHUB_REDIS_URL":  fmt.Sprintf("redis://%s/%d", ropts.Addr, ropts.DB),
		"HUBSPOT_CLIENT_ID": so.ClientID, "HUBSPOT_CLIENT_SECRET": so.ClientSecret,
		"REFHUB_ENCRYPTION_KEYS": oauth.GenerateKeySpec("k1"), "REFHUB_SESSION_SECRET": "test-session-secret-0123456789abcdef",
		"HUBSPOT_API_BASE": sim.URL(), "HUBSPOT_APP_BASE": sim.URL(), "REFHUB_HUBSPOT_TIMEOUT": "10s",
		"REFHUB_WORKERS": strconv.Itoa(workers), "REFHUB_LOG_LEVEL": "warn",
		"REFHUB_METRICS_TOKEN": MetricsToken,
	}
	cfg, err := app.LoadConfig(app.Env{Getenv: func(k string) string { return vars[k] }, ReadFile: os.ReadFile})
	if err != nil {
		t.Fatalf("apptest: configuration: %v", err)
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	rdb := redis.NewClient(ropts)
	if o.Redis == nil {
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}
	opts := o.AppOpts
	opts.Redis = rdb
	if o.Clock != nil {
		opts.Clock = o.Clock
	}
	if opts.Logger == nil {
		opts.Logger = TestLogger(t)
	}
	a, err := app.New(cfg, opts)
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	srv := a.HTTPServer()
	srv.Addr = ""
	ts.Config = srv
	ts.Start()
	e := &Env{T: t, Sim: sim, App: a, Server: ts, Redis: rdb, Config: cfg, Clock: o.Clock}
	t.Cleanup(func() { e.StopDelivery(); ts.Close(); _ = rdb.Close() })
	if o.Delivery {
		e.StartDelivery()
	}
	return e
}

// StartDelivery runs the delivery engine of this process in the background
// until StopDelivery or the end of the test.
func (e *Env) StartDelivery() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.App.RunWorkers(ctx) }()
	e.stop = append(e.stop, func() { cancel(); <-done })
}

// StopDelivery stops background delivery (finishing rounds in progress).
func (e *Env) StopDelivery() {
	for _, f := range e.stop {
		f()
	}
	e.stop = nil
}

// TestLogger logs to the test at warn level (REFHUB_TEST_LOG=debug for all).
func TestLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("REFHUB_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// URL returns refhub's URL for path.
func (e *Env) URL(path string) string { return e.Server.URL + path }

// Browser is a client with cookies, like a person's browser.
type Browser struct {
	env *Env
	*http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func (e *Env) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{env: e, Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Install runs the OAuth install for a portal as one of its users (the
// simulator approves without showing its consent page) and returns the
// signed-in browser.
func (e *Env) Install(hubID, userID int64) *Browser {
	e.T.Helper()
	b := e.NewBrowser()
	b.Install(hubID, userID)
	return b
}

// Install runs the install flow in this browser.
func (b *Browser) Install(hubID, userID int64) {
	b.env.T.Helper()
	b.env.Sim.AutoApprove(hubID, userID)
	defer b.env.Sim.AutoApprove(0, 0)
	resp, err := b.Get(b.env.URL("/oauth/install"))
	if err != nil {
		b.env.T.Fatalf("install: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/app/" {
		b.env.T.Fatalf("install of portal %d ended at %s with %d: %s", hubID, resp.Request.URL, resp.StatusCode, body)
	}
}

// CSRF returns the CSRF token of the browser's session.
func (b *Browser) CSRF() string {
	u, _ := url.Parse(b.env.Server.URL)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == auth.CSRFCookie {
			return c.Value
		}
	}
	return ""
}

// Do sends a JSON API request (with the CSRF header) and returns the status
// and body.
func (b *Browser) Do(method, path string, body any) (int, []byte) {
	b.env.T.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.env.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.env.URL(path), r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(auth.CSRFHeader, b.CSRF())
	resp, err := b.Client.Do(req)
	if err != nil {
		b.env.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// JSON is Do that decodes the answer into out and fails the test unless the
// status is want.
func (b *Browser) JSON(method, path string, body any, want int, out any) {
	b.env.T.Helper()
	status, raw := b.Do(method, path, body)
	if status != want {
		b.env.T.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.env.T.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// Post sends a raw webhook-like request and returns status and body.
func Post(t testing.TB, url, contentType string, body []byte, headers ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Eventually polls cond until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PostMany sends bodies as JSON webhooks with a few concurrent senders and
// fails the test unless every one is accepted (202).
func PostMany(t testing.TB, url string, bodies [][]byte, concurrency int) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	work := make(chan []byte)
	errs := make(chan string, concurrency)
	done := make(chan struct{})
	for i := 0; i < concurrency; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for body := range work {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					errs <- err.Error()
					continue
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					select {
					case errs <- resp.Status + ": " + string(out):
					default:
					}
				}
			}
		}()
	}
	for _, b := range bodies {
		work <- b
	}
	close(work)
	for i := 0; i < concurrency; i++ {
		<-done
	}
	select {
	case e := <-errs:
		t.Fatalf("a webhook was not accepted: %s", e)
	default:
	}
}

// Signups returns n JSON signups with emails prefix+i@example.com.
func Signups(prefix string, n int, extra string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(`{"email":"` + prefix + strconv.Itoa(i) + `@example.com","first_name":"F` + strconv.Itoa(i) + `"` + extra + `}`)
	}
	return out
}

// Source is a source as the API returns it.
type Source struct {
	ID         string `json:"id"`
	HubID      int64  `json:"hub_id"`
	WebhookURL string `json:"webhook_url"`
	Mapping    struct {
		Fields     []Field `json:"fields"`
		OnExisting string  `json:"on_existing"`
	} `json:"mapping"`
}

// CreateSource creates a source for hub through the API.
func (b *Browser) CreateSource(hub int64, name string) Source {
	b.env.T.Helper()
	var src Source
	b.JSON(http.MethodPost, "/api/v1/portals/"+strconv.FormatInt(hub, 10)+"/sources", map[string]string{"name": name}, http.StatusCreated, &src)
	return src
}

// Field maps a Referral Factory field to a HubSpot property.
type Field struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// SetMapping replaces a source's mapping through the API.
func (b *Browser) SetMapping(srcID string, fields []Field, defaults map[string]string, policy string) {
	b.env.T.Helper()
	if defaults == nil {
		defaults = map[string]string{}
	}
	b.JSON(http.MethodPut, "/api/v1/sources/"+srcID+"/mapping", map[string]any{
		"fields": fields, "defaults": defaults, "on_existing": policy}, http.StatusOK, nil)
}

// Event is an activity entry as the API returns it.
type Event struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Outcome      string     `json:"outcome"`
	Origin       string     `json:"origin"`
	ContactID    string     `json:"contact_id"`
	Reason       string     `json:"reason"`
	Fix          string     `json:"fix"`
	Code         string     `json:"code"`
	Property     string     `json:"property"`
	Attempts     int        `json:"attempts"`
	ReceivedAt   time.Time  `json:"received_at"`
	DeliveredAt  *time.Time `json:"delivered_at"`
	FirstFailure *time.Time `json:"first_failure"`
	LastFailure  *time.Time `json:"last_failure"`
	Payload      []struct {
		Path  string `json:"path"`
		Value string `json:"value"`
	} `json:"payload"`
}

// Activity returns a source's activity (query like "?status=failed").
func (b *Browser) Activity(srcID, query string) []Event {
	b.env.T.Helper()
	var out struct {
		Events []Event `json:"events"`
	}
	b.JSON(http.MethodGet, "/api/v1/sources/"+srcID+"/activity"+query, nil, http.StatusOK, &out)
	return out.Events
}

// DeadLetters returns all of a source's dead letters, read a page at a time.
func (b *Browser) DeadLetters(srcID string) []Event {
	b.env.T.Helper()
	var all []Event
	for next := ""; ; {
		var out struct {
			DeadLetters []Event `json:"dead_letters"`
			Next        string  `json:"next"`
		}
		b.JSON(http.MethodGet, "/api/v1/sources/"+srcID+"/dead-letters?"+url.Values{"after": {next}}.Encode(), nil, http.StatusOK, &out)
		all = append(all, out.DeadLetters...)
		if next = out.Next; next == "" {
			return all
		}
	}
}

// Calls counts simulator requests to an endpoint (e.g. "contacts.batch.upsert").
func (e *Env) Calls(endpoint string) int {
	return e.Sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == endpoint })
}

// RateLimited counts simulator answers with 429.
func (e *Env) RateLimited() int {
	return e.Sim.Count(func(r hubspottest.Request) bool { return r.Status == http.StatusTooManyRequests })
}

// Fields builds a mapping from pairs: Fields("email", "email", "first_name", "firstname").
func Fields(pairs ...string) []Field {
	out := make([]Field, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Field{From: pairs[i], To: pairs[i+1]})
	}
	return out
}

// Portal is a portal as the API lists it.
type Portal struct {
	HubID        int64  `json:"hub_id"`
	Domain       string `json:"domain"`
	Status       string `json:"status"`
	StatusReason string `json:"status_reason"`
}

// Portals lists the workspace's portals through the API.
func (b *Browser) Portals() []Portal {
	b.env.T.Helper()
	var out struct {
		Portals []Portal `json:"portals"`
	}
	b.JSON(http.MethodGet, "/api/v1/portals", nil, http.StatusOK, &out)
	return out.Portals
}

// ThirdParty is a client of the portal hubID with a token of userID for
// scopes: it reads HubSpot through its public API, as another app would, to
// check what refhub wrote there.
func (e *Env) ThirdParty(hubID, userID int64, scopes ...string) *hubspot.Portal {
	access, _ := e.Sim.IssueTokens(hubID, userID, scopes)
	return hubspot.New(hubspot.Config{APIBase: e.Sim.URL()}).Portal(hubID, func(context.Context) (string, error) { return access, nil }, nil)
}
