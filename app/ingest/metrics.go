package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics count webhook requests by what became of them.
type Metrics struct {
	results *prometheus.CounterVec
}

// NewMetrics registers the webhook's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "refhub_webhook_signups_total",
		Help: "Webhook requests by result: accepted, duplicate, rejected."}, []string{"result"})}
	reg.MustRegister(m.results)
	return m
}

func (m *Metrics) count(result string) { m.results.WithLabelValues(result).Inc() }
