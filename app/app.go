// Package app is refhub's application: the HTTP server (webhook ingest,
// OAuth install, settings UI, JSON API, health and metrics) and the delivery
// engine, wired from a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Options are what tests and `refhub dev` may inject.
type Options struct {
	Redis      redis.UniversalClient // default: from Config.RedisURL
	HTTPClient *http.Client          // for HubSpot; default: Config.HubSpotTimeout
	Logger     *slog.Logger
	// Clock is the time of expiries, leases, backoff and rate windows, and
	// what the rate limiter waits on; default the system clock. Tests pass
	// a simulated one and step the delivery engine.
	Clock    ratelimit.Clock
	Delivery delivery.Config // overrides (Workers comes from Config)
	Timeouts Timeouts        // server timeouts (defaults: 10 s header, 30 s request, 60 s response)
	// OnInstall is called after a portal was installed (refhub dev prints
	// a ready-to-paste curl from it).
	OnInstall func(ctx context.Context, ws tenants.Workspace, p tenants.Portal)
	// OnListening is called once Run accepts connections.
	OnListening func()
}

// App is one refhub process.
type App struct {
	cfg       Config
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	rdb       redis.UniversalClient
	ownsRedis bool

	hs        *hubspot.Client
	vault     *oauth.Vault
	store     *tenants.RedisStore
	tokens    *oauth.Tokens
	installer *oauth.Installer
	sessions  *Sessions
	queue     *queue.Queue
	limiter   *ratelimit.Limiter
	engine    *delivery.Engine
	sources   *tenants.SourceCache
	props     *properties.Cache
	quota     *backlogQuota
	perSource *keyedLimiter // REFHUB_WEBHOOK_RATE_LIMIT; nil: none
	strangers *keyedLimiter // unknown webhook tokens per client address
	quotaLog  *keyedLimiter // activity records of quota refusals per source
	registry  *prometheus.Registry
	metrics   *httpMetrics

	durability atomic.Pointer[RedisDurability] // what the start-up check found
}

// New builds an App; nothing runs until Run.
func New(cfg Config, opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = ratelimit.SystemClock{}
	}
	a := &App{cfg: cfg, opts: opts, log: opts.Logger, now: opts.Clock.Now, rdb: opts.Redis}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.rdb == nil {
		rdb, err := NewRedis(cfg.RedisURL, cfg.RedisCluster)
		if err != nil {
			return nil, &ConfigError{"REFHUB_REDIS_URL", err.Error()}
		}
		a.rdb, a.ownsRedis = rdb, true
	}
	vault, err := oauth.NewVault(cfg.EncryptionKeys)
	if err != nil {
		return nil, &ConfigError{"REFHUB_ENCRYPTION_KEYS", err.Error()}
	}
	a.vault = vault
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: cfg.HubSpotTimeout}
	}
	a.hs = hubspot.New(hubspot.Config{APIBase: cfg.APIBase, AppBase: cfg.AppBase, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, HTTPClient: httpClient, UserAgent: "refhub/" + Version})
	a.wire()
	return a, nil
}

func (a *App) wire() {
	cfg := a.cfg
	secret := []byte(cfg.SessionSecret)
	secure := oauth.IsHTTPS(cfg.PublicURL)
	a.store = tenants.NewRedisStore(a.rdb, a.vault, a.now)
	a.store.SetCaps(tenants.Caps{Sources: cfg.Limits.Sources, APITokens: cfg.Limits.APITokens})
	a.queue = queue.New(a.rdb, a.now)
	a.queue.KeepRefused(cfg.Limits.RefusedKept)
	a.limiter = ratelimit.New(a.rdb, cfg.RateLimit, cfg.RateWindow, a.opts.Clock)
	refreshes := newRefreshCounter()
	a.tokens = oauth.NewTokens(a.rdb, a.vault, refreshes.wrap(a.hs), a.now)
	states := oauth.NewStates(oauth.DeriveKey(secret, "oauth-state"), a.rdb, a.now)
	a.installer = oauth.NewInstaller(a.hs, states, Scopes(), oauth.RedirectURI(cfg.PublicURL))
	a.sessions = &Sessions{key: oauth.DeriveKey(secret, "session"), csrfKey: oauth.DeriveKey(secret, "csrf"),
		rdb: a.rdb, secure: secure, now: a.now}
	a.sources = tenants.NewSourceCache(a.store, a.now)
	a.props = properties.New(a.rdb, a.hs, a.tokens, a.limiter, a.now)
	a.wireLimits()
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = newHTTPMetrics(a.registry)
	a.registry.MustRegister(queue.NewCollector(a.queue))
	a.registry.MustRegister(refreshes.results, redisCollector{a.rdb})
	dcfg := a.opts.Delivery
	dcfg.Workers = cfg.Workers
	if dcfg.RetryFor == 0 {
		dcfg.RetryFor = cfg.RetryFor
	}
	if dcfg.Retention == 0 {
		dcfg.Retention = cfg.Retention
	}
	a.engine = delivery.New(dcfg, delivery.Deps{Queue: a.queue, Limiter: a.limiter, HubSpot: a.hs,
		Portals: enginePortals{a}, Sources: a.sources, Tokens: a.tokens, Properties: a.props,
		Metrics: delivery.NewMetrics(a.registry), Log: a.log, Now: a.now})
}

// enginePortals is what the delivery engine reads and reports of portals.
type enginePortals struct{ a *App }

func (p enginePortals) Portal(ctx context.Context, hub int64) (tenants.Portal, error) {
	return p.a.store.Portal(ctx, hub)
}

// NeedsReconnect records that HubSpot refused a portal's tokens (or lacks a
// scope): the tokens stop being used and the portal shows needs_reconnect.
func (p enginePortals) NeedsReconnect(ctx context.Context, hub int64, reason string) {
	p.a.tokens.MarkRevoked(ctx, hub, reason)
	if _, err := p.a.store.SetPortalStatus(ctx, hub, tenants.NeedsReconnect, reason); err != nil {
		p.a.log.Error("mark portal needs_reconnect", slog.Int64("portal", hub), slog.Any("err", err))
		return
	}
	p.a.log.Warn("portal needs to be reconnected", slog.Int64("portal", hub), slog.String("reason", reason))
}

// Resume unparks a connected portal's lane.
func (p enginePortals) Resume(ctx context.Context, hub int64) error {
	return p.a.queue.Unpark(ctx, hub)
}

// Engine returns the delivery engine (tests step it directly).
func (a *App) Engine() *delivery.Engine { return a.engine }

// Queue returns the event queue.
func (a *App) Queue() *queue.Queue { return a.queue }

// Store returns the tenant store.
func (a *App) Store() *tenants.RedisStore { return a.store }

// Tokens returns the token keeper.
func (a *App) Tokens() *oauth.Tokens { return a.tokens }

// Redis returns the Redis client.
func (a *App) Redis() redis.UniversalClient { return a.rdb }

// HTTPServer returns refhub's HTTP server: its handler and the timeouts
// that cut off slow clients (a header or body trickled byte by byte).
func (a *App) HTTPServer() *http.Server {
	t := a.opts.Timeouts
	if t.ReadHeader == 0 {
		t.ReadHeader = 10 * time.Second
	}
	if t.Read == 0 {
		t.Read = 30 * time.Second
	}
	if t.Write == 0 {
		t.Write = 60 * time.Second
	}
	return &http.Server{Addr: a.cfg.Addr, Handler: a.Handler(), ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
}

// Timeouts bound how long the server waits for a client.
type Timeouts struct {
	ReadHeader, Read, Write time.Duration
}

// RunWorkers runs what a process does besides serving HTTP (delivery,
// following source changes) until ctx ends.
func (a *App) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.sources.Follow(ctx, a.rdb, a.log) }()
	go func() {
		defer wg.Done()
		if a.cfg.Workers > 0 {
			_ = a.engine.Run(ctx)
		}
	}()
	wg.Wait()
}

// Run serves HTTP on cfg.Addr (and metrics on cfg.MetricsAddr, if set)
// and runs delivery until ctx ends, then shuts down gracefully: in-flight
// requests and batches finish.
func (a *App) Run(ctx context.Context) error {
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis is not reachable: %w", err)
	}
	if _, err := a.CheckRedisDurability(ctx); err != nil {
		return err
	}
	servers := []*http.Server{a.HTTPServer()}
	if a.cfg.MetricsAddr != "" {
		servers = append(servers, a.MetricsServer())
	}
	listeners := make([]net.Listener, 0, len(servers))
	for _, srv := range servers {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("listen on %s: %w", srv.Addr, err)
		}
		listeners = append(listeners, ln)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.RunWorkers(runCtx) }()
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	a.log.Info("refhub is serving", slog.String("addr", a.cfg.Addr), slog.String("public_url", a.cfg.PublicURL),
		slog.String("metrics_addr", a.cfg.MetricsAddr), slog.Int("workers", a.cfg.Workers))
	if a.opts.OnListening != nil {
		a.opts.OnListening()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdownCtx)
	}
	cancel()
	wg.Wait()
	if a.ownsRedis {
		_ = a.rdb.Close()
	}
	return err
}
