package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// devPortals are the simulated HubSpot portals `refhub dev` offers.
var devPortals = []hubspottest.Portal{
	{HubID: 1001, Domain: "acme-demo.hubspot.com", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}}},
	{HubID: 1002, Domain: "globex-demo.hubspot.com", Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}}},
}

// dev runs refhub with everything embedded: Redis (unless REFHUB_REDIS_URL
// is set), the HubSpot simulator and generated secrets.
func dev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("REFHUB_ADDR", "localhost:8080"), "address to serve refhub on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rdb, redisURL, closeRedis, err := devRedis(ctx)
	if err != nil {
		return err
	}
	defer closeRedis()
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	public := "http://" + hostPort(*addr)
	sim := hubspottest.New(hubspottest.Options{ClientID: "refhub-dev", ClientSecret: "refhub-dev-secret",
		RedirectURIs: []string{oauth.RedirectURI(public)}, RequiredScopes: install.Scopes()})
	for _, p := range devPortals {
		sim.AddPortal(p)
	}
	go func() { _ = sim.Serve(ctx, simLn) }()
	simURL := "http://" + simLn.Addr().String()
	cfg, err := app.LoadConfig(app.Overlay(map[string]string{
		"REFHUB_ADDR": *addr, "REFHUB_PUBLIC_URL": public, "REFHUB_REDIS_URL": redisURL,
		"HUBSPOT_CLIENT_ID": "refhub-dev", "HUBSPOT_CLIENT_SECRET": "refhub-dev-secret",
		"REFHUB_ENCRYPTION_KEYS": oauth.GenerateKeySpec("dev"), "REFHUB_SESSION_SECRET": tenants.NewSecret() + tenants.NewSecret(),
		"HUBSPOT_API_BASE": simURL, "HUBSPOT_APP_BASE": simURL, "REFHUB_WORKERS": envOr("REFHUB_WORKERS", "4"),
		"REFHUB_METRICS_TOKEN": envOr("REFHUB_METRICS_TOKEN", tenants.NewSecret()),
	}))
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	var a *app.App
	a, err = app.New(cfg, app.Options{Redis: rdb, Logger: newLogger(stderr, envOr("REFHUB_LOG_LEVEL", "warn")),
		OnInstall: func(ctx context.Context, ws tenants.Workspace, p tenants.Portal) { devInstalled(ctx, stdout, a, ws, p) },
		OnListening: func() {
			fmt.Fprintf(stdout, "refhub dev is running.\n\n  Open %s/oauth/install to install refhub into a simulated HubSpot portal.\n\n"+
				"  (HubSpot simulator at %s; data is kept in memory%s.)\n\n"+
				"  Metrics: curl -sS -H 'Authorization: Bearer %s' %s/metrics\n\n", public, simURL, devRedisNote(), cfg.MetricsToken, public)
		}})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// devInstalled gives a freshly installed dev portal a source (if it has
// none), and prints a curl that sends it a test signup.
func devInstalled(ctx context.Context, w io.Writer, a *app.App, ws tenants.Workspace, p tenants.Portal) {
	srcs, err := a.Store().Sources(ctx, ws.ID)
	if err != nil {
		fmt.Fprintln(w, "refhub dev: list sources:", err)
		return
	}
	var src *tenants.Source
	for i := range srcs {
		if srcs[i].HubID == p.HubID {
			src = &srcs[i]
			break
		}
	}
	if src == nil {
		created, err := a.Store().CreateSource(ctx, ws.ID, p.HubID, "Referral Factory (dev)")
		if err != nil {
			fmt.Fprintln(w, "refhub dev: create source:", err)
			return
		}
		_ = a.Queue().Register(ctx, p.HubID)
		src = &created
	}
	fmt.Fprintf(w, "Installed into portal %d (%s). Send a test signup to source %q:\n\n  %s\n\n",
		p.HubID, p.Domain, src.Name, ingest.CurlSample(a.WebhookURL(*src)))
}

func devRedisNote() string {
	if os.Getenv("REFHUB_REDIS_URL") != "" {
		return " except what lives in REFHUB_REDIS_URL"
	}
	return ""
}

// devRedis connects to REFHUB_REDIS_URL, or starts an in-process Redis
// whose clock a ticker advances (miniredis does not age keys by itself).
func devRedis(ctx context.Context) (redis.UniversalClient, string, func(), error) {
	if url := os.Getenv("REFHUB_REDIS_URL"); url != "" {
		rdb, err := redisconn.Dial(url, false)
		return rdb, url, func() { _ = rdb.Close() }, err
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, "", nil, err
	}
	tctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-tctx.Done():
				return
			case <-t.C:
				m.FastForward(time.Second)
			}
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	return rdb, "redis://" + m.Addr(), func() { cancel(); _ = rdb.Close(); m.Close() }, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// hostPort turns a listen address into one a browser can open.
func hostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
