package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
)

// refreshCounter counts HubSpot refresh_token grants by result: ok, revoked
// (HubSpot refused the refresh token: the portal must be reconnected) or
// failed (HubSpot or the network failed; the next caller tries again).
type refreshCounter struct{ results *prometheus.CounterVec }

func newRefreshCounter() *refreshCounter {
	c := &refreshCounter{results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_token_refreshes_total",
		Help: "OAuth access-token refreshes at HubSpot, by result: ok, revoked, failed."}, []string{"result"})}
	for _, r := range []string{"ok", "revoked", "failed"} {
		c.results.WithLabelValues(r) // every series from the start, so alerts see the first failure
	}
	return c
}

// wrap counts the refreshes next makes.
func (c *refreshCounter) wrap(next oauth.Refresher) oauth.Refresher { return countedRefresher{next, c} }

type countedRefresher struct {
	next oauth.Refresher
	c    *refreshCounter
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
	r.c.results.WithLabelValues(result).Inc()
	return tok, err
}

// redisCollector reports at scrape time whether this process reaches Redis,
// which holds every queued signup: nothing is accepted or delivered without it.
type redisCollector struct{ rdb redis.UniversalClient }

var redisUpDesc = prometheus.NewDesc("refhub_redis_up", "1 if this process reached Redis at scrape time, 0 if not.", nil, nil)

func (c redisCollector) Describe(ch chan<- *prometheus.Desc) { ch <- redisUpDesc }

func (c redisCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 0.0
	if c.rdb.Ping(ctx).Err() == nil {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(redisUpDesc, prometheus.GaugeValue, up)
}

// Gatherer returns the registry /metrics serves (tests read it directly).
func (a *App) Gatherer() prometheus.Gatherer { return a.registry }
