package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/refhub/refhub/app/metrics"
	"github.com/refhub/refhub/app/redisconn"
)

// Timeouts bound how long the server waits for a client.
type Timeouts struct {
	ReadHeader, Read, Write time.Duration
}

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

// MetricsServer returns the server of the metrics listener
// (REFHUB_METRICS_ADDR): /metrics, and /healthz and /readyz for probes
// that should not go through the public listener either. When a token is
// set, it asks for it as well.
func (a *App) MetricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(a.registry, a.cfg.MetricsToken))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.rdb.Ping(r.Context()).Err(); err != nil {
			http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return &http.Server{Addr: a.cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
}

// RunWorkers runs what a process does besides serving HTTP (delivery,
// backfills and their daily chore, following source changes, HubSpot's
// events, qualifications) until ctx ends.
func (a *App) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(6)
	go func() { defer wg.Done(); a.sources.Follow(ctx, a.rdb, a.log) }()
	go func() { defer wg.Done(); a.inbox.Run(ctx) }()
	go func() { defer wg.Done(); a.qualifier.Run(ctx) }()
	go func() { defer wg.Done(); a.backfill.Run(ctx) }()
	go func() { defer wg.Done(); a.backfill.Chores(ctx, a.queue.TakeChore) }()
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

// ErrRedisNotDurable is returned by Run when REFHUB_REQUIRE_DURABLE_REDIS is
// set and Redis can lose queued signups.
var ErrRedisNotDurable = errors.New("redis can lose queued signups")

// CheckRedisDurability reads Redis's persistence and eviction settings
// (redisconn.CheckDurability), logs a warning naming each risky setting
// and its fix, and keeps the result for RedisDurability. With
// REFHUB_REQUIRE_DURABLE_REDIS=true a risky setting is an error; what
// could not be read never is (it is logged as such).
func (a *App) CheckRedisDurability(ctx context.Context) (redisconn.Durability, error) {
	d := redisconn.CheckDurability(ctx, a.rdb)
	a.durability.Store(&d)
	for _, p := range d.Problems {
		a.log.Warn("Redis can lose queued signups", slog.String("setting", p.Setting), slog.String("value", p.Value),
			slog.String("node", p.Node), slog.String("risk", p.Risk), slog.String("fix", p.Fix))
	}
	for _, u := range d.Unchecked {
		a.log.Info("could not check Redis durability: make sure your Redis keeps its data (AOF or snapshots) and evicts nothing",
			slog.String("unchecked", u))
	}
	if len(d.Problems) > 0 && a.cfg.RequireDurableRedis {
		var lines []string
		for _, p := range d.Problems {
			lines = append(lines, p.String())
		}
		return d, fmt.Errorf("%w (REFHUB_REQUIRE_DURABLE_REDIS=true refuses to start):\n  %s", ErrRedisNotDurable,
			strings.Join(lines, "\n  "))
	}
	return d, nil
}

// RedisDurability returns what the last durability check found (nothing
// before the first check).
func (a *App) RedisDurability() redisconn.Durability {
	if d := a.durability.Load(); d != nil {
		return *d
	}
	return redisconn.Durability{}
}
