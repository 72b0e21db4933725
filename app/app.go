// Package app is refhub's wiring root: the configuration (Config,
// LoadConfig), one App built from it with every room connected (New), the
// router with every route in one function (Handler), and the process's
// lifecycle (Run). What refhub does lives in the rooms below it; the map is
// docs/ARCHITECTURE.md.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app/api"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/metrics"
	"github.com/refhub/refhub/app/pages"
	"github.com/refhub/refhub/app/privacy"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Version is refhub's version, set at build time with
// -ldflags "-X github.com/refhub/refhub/app.Version=v1.2.3".
var Version = "dev"

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
	// Leads finds leads by HubSpot contact for qualification; default:
	// none known.
	Leads qualify.Leads
	// RFClient sends requests to Referral Factory; default a client with
	// a 30 s timeout.
	RFClient *http.Client
}

// App is one refhub process: its stores, the rooms wired to them, and the
// delivery engine.
type App struct {
	cfg       Config
	opts      Options
	log       *slog.Logger
	rdb       redis.UniversalClient
	ownsRedis bool

	store    *tenants.RedisStore
	sources  *tenants.SourceCache
	tokens   *oauth.Tokens
	queue    *queue.Queue
	leads    *leads.Service
	engine   *delivery.Engine
	backfill *backfill.Service
	ws       *workspace.Service
	guard    *auth.Guard
	load     web.Loader
	webhook  *ingest.Webhook
	install  *install.Handlers
	api      *api.Handlers
	pages    *pages.Pages
	registry *prometheus.Registry
	requests *metrics.HTTP

	hooks     *hshooks.Receiver
	inbox     *hshooks.Inbox
	qualifier *qualify.Sender
	rules     *qualify.Rules
	privacy   *privacy.Service

	durability atomic.Pointer[redisconn.Durability] // what the start-up check found
}

// New builds an App; nothing runs until Run.
func New(cfg Config, opts Options) (*App, error) {
	if opts.Clock == nil {
		opts.Clock = ratelimit.SystemClock{}
	}
	a := &App{cfg: cfg, opts: opts, log: opts.Logger, rdb: opts.Redis}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.rdb == nil {
		rdb, err := redisconn.Dial(cfg.RedisURL, cfg.RedisCluster)
		if err != nil {
			return nil, &ConfigError{"REFHUB_REDIS_URL", err.Error()}
		}
		a.rdb, a.ownsRedis = rdb, true
	}
	vault, err := oauth.NewVault(cfg.EncryptionKeys)
	if err != nil {
		return nil, &ConfigError{"REFHUB_ENCRYPTION_KEYS", err.Error()}
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: cfg.HubSpotTimeout}
	}
	rf, err := referralfactory.New(referralfactory.Config{APIBase: cfg.RFAPIBase, Base: cfg.RFBase, HTTPClient: opts.RFClient,
		UserAgent: "refhub/" + Version, Clock: opts.Clock.Now})
	if err != nil {
		return nil, &ConfigError{"REFERRAL_FACTORY_API_BASE or REFERRAL_FACTORY_BASE", err.Error()}
	}
	hs := hubspot.New(hubspot.Config{APIBase: cfg.APIBase, AppBase: cfg.AppBase, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, HTTPClient: httpClient, UserAgent: "refhub/" + Version})
	a.wire(hs, vault, rf)
	return a, nil
}

// wire builds the rooms: stores first, then the operations over them, then
// what serves HTTP and what delivers.
func (a *App) wire(hs *hubspot.Client, vault *oauth.Vault, rf *referralfactory.Client) {
	cfg, now := a.cfg, a.opts.Clock.Now
	secret := []byte(cfg.SessionSecret)
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.RedisUp(a.rdb))
	a.requests = metrics.NewHTTP(a.registry)

	a.store = tenants.NewRedisStore(a.rdb, vault, now)
	a.store.SetCaps(tenants.Caps{Sources: cfg.Limits.Sources, APITokens: cfg.Limits.APITokens})
	a.sources = tenants.NewSourceCache(a.store, now)
	a.queue = queue.New(a.rdb, now)
	a.queue.KeepRefused(cfg.Limits.RefusedKept)
	a.registry.MustRegister(queue.NewCollector(a.queue))
	limiter := ratelimit.New(a.rdb, cfg.RateLimit, cfg.RateWindow, a.opts.Clock)
	a.tokens = oauth.NewTokens(a.rdb, vault, metrics.CountRefreshes(a.registry, hs), now)
	a.tokens.UseInstallers(a.store)
	props := properties.New(a.rdb, hs, a.tokens, limiter, now)
	wake := func() { a.engine.Wake() }
	a.leads = leads.New(a.rdb, a.log, now, a.queue.Signal)
	dealSvc := deals.New(a.rdb, oauth.DeriveKey([]byte(cfg.SessionSecret), "deal-keys"))
	intake := ingest.NewIntake(a.queue, wake)
	quota := ingest.NewQuota(a.queue, a.store, cfg.Limits.quotas(), now)

	a.backfill = backfill.New(backfill.Config{Calls: cfg.RFRateLimit, Period: cfg.RFRateWindow},
		backfill.Deps{Redis: a.rdb, Store: a.store, Sources: a.sources, RF: rf, Queue: a.queue, Intake: intake,
			Quota: quota, Clock: a.opts.Clock, Log: a.log, Owner: replicaName()})
	qs := a.wireHooks(hs, vault, rf, limiter, props)
	a.ws = workspace.New(workspace.Deps{Redis: a.rdb, Store: a.store, Sources: a.sources, Queue: a.queue,
		Limiter: limiter, Tokens: a.tokens, HubSpot: hs, Properties: props, Leads: a.leads, Deals: dealSvc, Intake: intake, Quota: quota,
		Backfill: a.backfill, Wake: wake, Log: a.log, Now: now, PublicURL: cfg.PublicURL, AppBase: cfg.AppBase,
		Owners: []workspace.Owner{a.qualifier}})
	sessions := auth.NewSessions(secret, a.rdb, oauth.IsHTTPS(cfg.PublicURL), now)
	a.guard = auth.NewGuard(a.store, sessions)
	a.load = web.NewLoader(loader{a.ws})
	a.webhook = ingest.NewWebhook(ingest.Deps{Sources: a.sources, Queue: a.queue, Intake: intake, Quota: quota,
		Metrics: ingest.NewMetrics(a.registry), Log: a.log, Now: now, RatePerSource: cfg.WebhookRate})
	states := oauth.NewStates(oauth.DeriveKey(secret, "oauth-state"), a.rdb, now)
	a.install = install.New(install.Deps{Installer: oauth.NewInstaller(hs, states, install.Scopes(), oauth.RedirectURI(cfg.PublicURL)),
		Store: a.store, Tokens: a.tokens, Portals: a.ws.Portals, Sessions: sessions, Log: a.log, OnInstall: a.opts.OnInstall})
	a.api = api.New(a.ws, a.backfill, qs, a.privacy)
	a.pages = pages.New(pages.Deps{Workspace: a.ws, Backfill: a.backfill, Sessions: sessions, Redis: a.rdb, Log: a.log, AppBase: cfg.AppBase,
		RedisProblems: func() []redisconn.Problem { return a.RedisDurability().Problems }, Qualify: qs, Erasure: a.privacy})

	dcfg := a.opts.Delivery
	dcfg.Workers = cfg.Workers
	if dcfg.RetryFor == 0 {
		dcfg.RetryFor = cfg.RetryFor
	}
	if dcfg.Retention == 0 {
		dcfg.Retention = cfg.Retention
	}
	a.engine = delivery.New(dcfg, delivery.Deps{Queue: a.queue, Limiter: limiter, HubSpot: hs,
		Portals: a.ws.Portals, Sources: a.sources, Tokens: a.tokens, Properties: props, Leads: a.leads,
		Deals: dealSvc, Metrics: delivery.NewMetrics(a.registry), Log: a.log, Now: now})
}

// replicaName names this process in leases: host, process id, and a
// random part (a restarted container may get the same pid).
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), tenants.NewID("r"))
}

// What the rooms are given satisfies the small interfaces they declare.
var (
	_ delivery.Portals = (*workspace.Portals)(nil)
	_ delivery.Sources = (*tenants.SourceCache)(nil)
	_ delivery.Tokens  = (*oauth.Tokens)(nil)
	_ web.Workspaces   = loader{}
	_ workspace.Owner  = (*qualify.Sender)(nil)
)

// loader loads the resources a route names for web.Loader.
type loader struct{ ws *workspace.Service }

func (l loader) Portal(ctx context.Context, wsID string, hub int64) (tenants.Portal, error) {
	return l.ws.Portals.Load(ctx, wsID, hub)
}

func (l loader) Source(ctx context.Context, wsID, id string) (tenants.Source, error) {
	return l.ws.Sources.Load(ctx, wsID, id)
}

// Engine returns the delivery engine (tests step it directly).
func (a *App) Engine() *delivery.Engine { return a.engine }

// Leads returns the lead index, referrer links and referral counts.
func (a *App) Leads() *leads.Service { return a.leads }

// Backfills returns the backfills (tests step them directly).
func (a *App) Backfills() *backfill.Service { return a.backfill }

// Queue returns the event queue.
func (a *App) Queue() *queue.Queue { return a.queue }

// Store returns the tenant store.
func (a *App) Store() *tenants.RedisStore { return a.store }

// Tokens returns the token keeper.
func (a *App) Tokens() *oauth.Tokens { return a.tokens }

// Redis returns the Redis client.
func (a *App) Redis() redis.UniversalClient { return a.rdb }

// WebhookURL is the URL Referral Factory posts a source's signups to.
func (a *App) WebhookURL(src tenants.Source) string { return ingest.WebhookURL(a.cfg.PublicURL, src) }

// Gatherer returns the registry /metrics serves (tests read it directly).
func (a *App) Gatherer() prometheus.Gatherer { return a.registry }

// ResealReport counts what Reseal rewrote.
type ResealReport struct {
	Portals, Sources, QualificationRules int
}

// Reseal re-encrypts every stored secret — portal tokens, webhook tokens,
// shared secrets and qualification URLs — with the primary key of REFHUB_ENCRYPTION_KEYS, so
// older keys can then be removed from it. Each owner walks its own keys.
func (a *App) Reseal(ctx context.Context) (ResealReport, error) {
	var r ResealReport
	var err error
	if r.Portals, err = a.tokens.ResealAll(ctx); err != nil {
		return r, err
	}
	if r.Sources, err = a.store.ResealSources(ctx); err != nil {
		return r, err
	}
	r.QualificationRules, err = a.rules.ResealAll(ctx)
	return r, err
}
