package delivery

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors. Labels are bounded sets
// (outcome, reason code); there are no per-portal labels.
type Metrics struct {
	calls        prometheus.Counter
	rateLimited  prometheus.Counter
	throttled    prometheus.Counter
	parked       prometheus.Counter
	outcomes     *prometheus.CounterVec
	failures     *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	latency      prometheus.Histogram
}

// NewMetrics creates the collectors and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "refhub_hubspot_calls_total",
			Help: "HubSpot API calls made by delivery."}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "refhub_hubspot_429_total",
			Help: "Rounds that HubSpot answered with 429 (should stay 0)."}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{Name: "refhub_delivery_throttled_total",
			Help: "Rounds postponed by refhub's own rate limiter."}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{Name: "refhub_delivery_parked_total",
			Help: "Rounds that parked a lane because its portal needs reconnecting."}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_delivery_events_total",
			Help: "Events by delivery outcome."}, []string{"outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_delivery_failures_total",
			Help: "Delivery rounds that failed, by class: retry, rate_limited, reconnect, internal, bad."}, []string{"class"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_dead_letters_total",
			Help: "Events dead-lettered, by reason code."}, []string{"code"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "refhub_delivery_batch_seconds",
			Help: "Time to send one batch to HubSpot.", Buckets: prometheus.DefBuckets}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "refhub_delivery_latency_seconds",
			Help:    "Time from webhook to contact in HubSpot.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600}}),
	}
	for c := classRetry; c <= classBad; c++ {
		m.failures.WithLabelValues(c.String()) // every class from the start, so rate() sees the first failure
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.rateLimited, m.throttled, m.parked, m.outcomes, m.deadLetters, m.batchSeconds, m.latency)
		reg.MustRegister(m.failures)
	}
	return m
}

// failed counts a round that failed with an error of class c.
func (m *Metrics) failed(c failureClass) {
	if c != classNone {
		m.failures.WithLabelValues(c.String()).Inc()
	}
}

func (m *Metrics) outcome(o string, n int) { m.outcomes.WithLabelValues(o).Add(float64(n)) }

func (m *Metrics) deadLetter(code string) {
	if code == "" {
		code = "OTHER"
	}
	if len(code) > 40 { // keep the label set bounded
		code = "OTHER"
	}
	m.deadLetters.WithLabelValues(code).Inc()
}

func (m *Metrics) observeLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }
