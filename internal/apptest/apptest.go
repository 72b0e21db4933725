// Package apptest starts refhub for tests: the HubSpot simulator over real
// HTTP, a private redis-server database, and the app on a loopback port,
// plus a browser-like client that installs the app through the simulator.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/hubspot/hubspottest"
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
	cancel context.CancelFunc
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
}

// DefaultPortals are two portals with one admin each.
var DefaultPortals = []hubspottest.Portal{
	{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}}},
	{HubID: 2002, Domain: "globex.hubspot.test", Users: []hubspottest.User{{ID: 602, Email: "admin@globex.test"}}},
}

// Start starts refhub and the simulator; everything stops when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	public := "http://" + ts.Listener.Addr().String()
	so := o.Sim
	so.ClientID, so.ClientSecret = "refhub-test", "refhub-test-secret"
	so.RedirectURIs = []string{oauth.RedirectURI(public)}
	sim := hubspottest.NewTestServer(t, so)
	portals := o.Portals
	if portals == nil {
		portals = DefaultPortals
	}
	for _, p := range portals {
		sim.AddPortal(p)
	}
	cfg := app.Config{Addr: ts.Listener.Addr().String(), PublicURL: public, ClientID: so.ClientID,
		ClientSecret: so.ClientSecret, EncryptionKeys: oauth.GenerateKeySpec("k1"),
		SessionSecret: "test-session-secret-0123456789abcdef", APIBase: sim.URL(), AppBase: sim.URL(),
		RateLimit: 100, RateWindow: 10 * time.Second, HubSpotTimeout: 10 * time.Second, Workers: o.Workers,
		RetryFor: 72 * time.Hour, WebhookRate: 10000, LogLevel: "warn"}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	ropts := o.Redis
	if ropts == nil {
		ropts = redistest.Options(t)
	}
	rdb := redis.NewClient(ropts)
	if o.Redis == nil {
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	}
	opts := o.AppOpts
	opts.Redis = rdb
	if opts.Logger == nil {
		opts.Logger = TestLogger(t)
	}
	a, err := app.New(cfg, opts)
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	ts.Config.Handler = a.Handler()
	ts.Start()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Env{T: t, Sim: sim, App: a, Server: ts, Redis: rdb, Config: cfg, cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if o.Delivery {
			a.RunWorkers(ctx)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; ts.Close(); _ = rdb.Close() })
	return e
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
		if c.Name == app.CSRFCookie {
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
	req.Header.Set(app.CSRFHeader, b.CSRF())
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
