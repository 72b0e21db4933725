package app

import (
	"strconv"
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
