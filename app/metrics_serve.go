package app

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/refhub/refhub/app/apperr"
)

// Metrics are never anonymous on the listener Referral Factory and
// browsers reach: they are served on their own listener
// (REFHUB_METRICS_ADDR, meant for a private network), and on the public
// one only to a scraper presenting REFHUB_METRICS_TOKEN as a bearer
// token. When a token is set, the metrics listener asks for it as well.

// serveMetrics serves /metrics on the public listener: behind the bearer token
// if one is configured, and not at all otherwise.
func (a *App) serveMetrics(c *gin.Context) {
	if a.cfg.MetricsToken == "" {
		_ = c.Error(apperr.New(apperr.NotFound, "metrics are not served on this address: scrape REFHUB_METRICS_ADDR, "+
			"or set REFHUB_METRICS_TOKEN and send it as a bearer token"))
		return
	}
	a.metricsHandler().ServeHTTP(c.Writer, c.Request)
}

// metricsHandler is the Prometheus handler, asking for the bearer token
// when one is configured (compared in constant time).
func (a *App) metricsHandler() http.Handler {
	prom := promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})
	token := a.cfg.MetricsToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="refhub metrics"`)
				http.Error(w, "send REFHUB_METRICS_TOKEN as a bearer token", http.StatusUnauthorized)
				return
			}
		}
		prom.ServeHTTP(w, r)
	})
}

// MetricsServer returns the server of the metrics listener
// (REFHUB_METRICS_ADDR): /metrics, and /healthz and /readyz for probes
// that should not go through the public listener either.
func (a *App) MetricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metricsHandler())
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
