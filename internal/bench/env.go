package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/oauth"
)

// The simulated app's credentials.
const (
	clientID      = "refhub-bench"
	clientSecret  = "refhub-bench-secret"
	sessionSecret = "refhub-bench-session-secret-0123456789abcdef"
	metricsToken  = "bench-metrics-token-0123456789" // /metrics of the bench apps
)

// env is what every section shares: one redis-server, one HubSpot
// simulator, one encryption key.
type env struct {
	cfg    Config
	sz     sizes
	redis  *redistest.Server
	sim    *hubspottest.Server
	simURL string
	keys   string
	stop   context.CancelFunc
	done   chan struct{}
	hubs   atomic.Int64 // next hub id
}

func startEnv(ctx context.Context, cfg Config, sz sizes) (*env, error) {
	rs, err := redistest.Start(redistest.StartOptions{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rs.Close()
		return nil, err
	}
	sim := hubspottest.New(hubspottest.Options{ClientID: clientID, ClientSecret: clientSecret,
		RateLimit: sz.simLimit, RateWindow: sz.window, RequiredScopes: install.Scopes()})
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e := &env{cfg: cfg, sz: sz, redis: rs, sim: sim, simURL: "http://" + ln.Addr().String(),
		keys: oauth.GenerateKeySpec("bench"), stop: stop, done: make(chan struct{})}
	go func() { defer close(e.done); _ = sim.Serve(sctx, ln) }()
	e.hubs.Store(100000)
	return e, nil
}

func (e *env) close() {
	e.stop()
	<-e.done
	e.redis.Close()
}

// newHubs reserves n fresh hub ids.
func (e *env) newHubs(n int) []int64 {
	last := e.hubs.Add(int64(n))
	out := make([]int64, n)
	for i := range out {
		out[i] = last - int64(n) + int64(i) + 1
	}
	return out
}

// redisURL names one logical database of the bench's redis-server.
func (e *env) redisURL(db int) string { return fmt.Sprintf("redis://%s/%d", e.redis.Addr, db) }

// client returns a client of database db, configured like refhub's own.
func (e *env) client(db int) (redis.UniversalClient, error) {
	return redisconn.Dial(e.redisURL(db), false)
}

// flush empties database db.
func (e *env) flush(ctx context.Context, db int) error {
	c := redis.NewClient(&redis.Options{Addr: e.redis.Addr, DB: db})
	defer c.Close()
	return c.FlushDB(ctx).Err()
}

// config is refhub's configuration for a bench app serving on addr.
func (e *env) config(addr string, db, workers int) app.Config {
	return app.Config{Addr: addr, PublicURL: "http://" + addr, RedisURL: e.redisURL(db), ClientID: clientID,
		ClientSecret: clientSecret, EncryptionKeys: e.keys, SessionSecret: sessionSecret,
		APIBase: e.simURL, AppBase: e.simURL, RateLimit: e.sz.limit, RateWindow: e.sz.window,
		HubSpotTimeout: 20 * time.Second, Workers: workers, RetryFor: 72 * time.Hour,
		Retention: 720 * time.Hour, LogLevel: "warn", MetricsToken: metricsToken, Limits: app.DefaultLimits()}
}

// benchApp is a refhub App serving HTTP on a loopback port.
type benchApp struct {
	*app.App
	URL   string
	rdb   redis.UniversalClient
	trips *roundTrips
	srv   *http.Server

	workers func() // stops delivery; nil when it is not running
}

// startApp starts refhub on database db with workers delivery workers
// (delivery runs only after startWorkers).
func (e *env) startApp(db, workers int) (*benchApp, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := e.config(ln.Addr().String(), db, workers)
	rdb, err := e.client(db)
	if err != nil {
		return nil, err
	}
	trips := &roundTrips{}
	rdb.AddHook(trips)
	a, err := app.New(cfg, app.Options{Redis: rdb, Logger: slog.New(slog.NewTextHandler(e.cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	srv := a.HTTPServer()
	go func() { _ = srv.Serve(ln) }()
	return &benchApp{App: a, URL: "http://" + ln.Addr().String(), rdb: rdb, trips: trips, srv: srv}, nil
}

// startWorkers runs the app's delivery until stopWorkers or close.
func (b *benchApp) startWorkers() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.RunWorkers(ctx) }()
	b.workers = func() { cancel(); <-done }
}

// stopWorkers stops delivery, letting rounds in progress finish.
func (b *benchApp) stopWorkers() {
	if b.workers != nil {
		b.workers()
		b.workers = nil
	}
}

func (b *benchApp) close() {
	b.stopWorkers()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
	_ = b.rdb.Close()
}

// roundTrips counts what a Redis client sends: one per command sent alone,
// one per pipeline (a pipeline travels as one write and one read).
type roundTrips struct {
	n atomic.Int64
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// redisInfo reads numeric fields of INFO section.
func (e *env) redisInfo(ctx context.Context, section string, fields ...string) (map[string]float64, error) {
	c := e.redis.Client()
	defer c.Close()
	raw, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, f := range fields {
		v, ok := infoField(raw, f)
		if !ok {
			return nil, errors.New("redis INFO has no " + f)
		}
		out[f] = v
	}
	return out, nil
}

func infoField(raw, name string) (float64, bool) {
	for _, line := range strings.Split(raw, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}
