package hshooks

import "github.com/prometheus/client_golang/prometheus"

// Metrics count HubSpot webhook requests and events by what became of them.
type Metrics struct {
	requests *prometheus.CounterVec
	evs      *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_hubspot_webhook_requests_total",
			Help: "HubSpot webhook requests by result: accepted, forged, stale, unsigned, invalid, too_large."}, []string{"result"}),
		evs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_hubspot_webhook_events_total",
			Help: "HubSpot webhook events by result: received, unknown_portal, duplicate, processed, failed."}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.evs)
	return m
}

func (m *Metrics) request(result string) { m.requests.WithLabelValues(result).Inc() }

func (m *Metrics) events(result string, n int) {
	if n > 0 {
		m.evs.WithLabelValues(result).Add(float64(n))
	}
}
