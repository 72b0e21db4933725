package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics count requests by route pattern (never the raw path, which
// carries webhook tokens) and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ingested *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "refhub_http_request_seconds",
			Help: "HTTP request duration by route.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_webhook_signups_total",
			Help: "Webhook requests by result: accepted, duplicate, rejected."}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.ingested)
	return m
}

func (m *httpMetrics) observe(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// queueCollector reports queue depth, lanes and lag across all portals at
// scrape time (totals only: no per-portal labels).
type queueCollector struct {
	a    *App
	mu   sync.Mutex
	at   time.Time
	vals [4]float64
}

var (
	depthDesc  = prometheus.NewDesc("refhub_queue_depth", "Events waiting for delivery, all portals.", nil, nil)
	readyDesc  = prometheus.NewDesc("refhub_queue_ready_lanes", "Portal lanes due for work now.", nil, nil)
	parkedDesc = prometheus.NewDesc("refhub_queue_parked_lanes", "Portal lanes parked until their portal is reconnected.", nil, nil)
	lagDesc    = prometheus.NewDesc("refhub_queue_lag_seconds", "Age of the oldest waiting event, all portals.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- readyDesc
	ch <- parkedDesc
	ch <- lagDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > 5*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		s, err := c.a.queue.Summary(ctx)
		cancel()
		if err == nil {
			c.vals = [4]float64{float64(s.Depth), float64(s.Ready), float64(s.Parked), s.Lag.Seconds()}
			c.at = time.Now()
		}
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, c.vals[0])
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, c.vals[1])
	ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, c.vals[2])
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, c.vals[3])
}
