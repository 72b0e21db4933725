// Package metrics holds refhub's own Prometheus metrics that belong to no
// single room — HTTP requests by route, token refreshes at HubSpot,
// whether Redis is reachable — and the /metrics handler, which asks for
// REFHUB_METRICS_TOKEN. The queue, the webhook and delivery register
// their own (queue.Collector, ingest.NewMetrics, delivery.NewMetrics).
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
)

// HTTP counts requests by route pattern (never the raw path, which carries
// webhook tokens) and status.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers the request metrics with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "refhub_http_request_seconds",
			Help: "HTTP request duration by route.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Observe counts one request of route ("" for no route).
func (m *HTTP) Observe(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// CountRefreshes counts the HubSpot refresh_token grants next makes by
// result: ok, revoked (HubSpot refused the refresh token: the portal must
// be reconnected) or failed (HubSpot or the network failed; the next
// caller tries again). Every result is there from the start, so alerts
// see the first failure.
func CountRefreshes(reg prometheus.Registerer, next oauth.Refresher) oauth.Refresher {
	results := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_token_refreshes_total",
		Help: "OAuth access-token refreshes at HubSpot, by result: ok, revoked, failed."}, []string{"result"})
	for _, r := range []string{"ok", "revoked", "failed"} {
		results.WithLabelValues(r)
	}
	reg.MustRegister(results)
	return countedRefresher{next, results}
}

type countedRefresher struct {
	next    oauth.Refresher
	results *prometheus.CounterVec
}

func (r countedRefresher) Refresh(ctx context.Context, refreshToken string) (*hubspot.Token, error) {
	tok, err := r.next.Refresh(ctx, refreshToken)
	result := "ok"
	switch {
	case hubspot.IsInvalidGrant(err):
		result = "revoked"
	case err != nil:
		result = "failed"
	}
	r.results.WithLabelValues(result).Inc()
	return tok, err
}

// RedisUp reports at scrape time whether this process reaches Redis, which
// holds every queued signup: nothing is accepted or delivered without it.
func RedisUp(rdb redis.UniversalClient) prometheus.Collector { return redisUp{rdb} }

type redisUp struct{ rdb redis.UniversalClient }

var redisUpDesc = prometheus.NewDesc("refhub_redis_up", "1 if this process reached Redis at scrape time, 0 if not.", nil, nil)

func (c redisUp) Describe(ch chan<- *prometheus.Desc) { ch <- redisUpDesc }

func (c redisUp) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 0.0
	if c.rdb.Ping(ctx).Err() == nil {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(redisUpDesc, prometheus.GaugeValue, up)
}

// Handler serves g's metrics, asking for token as a bearer token when one
// is set (compared in constant time).
func Handler(g prometheus.Gatherer, token string) http.Handler {
	prom := promhttp.HandlerFor(g, promhttp.HandlerOpts{})
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
