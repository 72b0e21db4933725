package queue

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collectorTTL is how long a scrape reuses the last reading: a summary
// walks every lane, and several scrapers may ask at once.
const collectorTTL = 5 * time.Second

// Collector reports queue depth, lanes and lag across all portals at
// scrape time (totals only: no per-portal labels).
type Collector struct {
	q    *Queue
	mu   sync.Mutex
	at   time.Time
	vals [4]float64
}

// NewCollector returns the collector of q's gauges.
func NewCollector(q *Queue) *Collector { return &Collector{q: q} }

var (
	depthDesc  = prometheus.NewDesc("refhub_queue_depth", "Events waiting for delivery, all portals.", nil, nil)
	readyDesc  = prometheus.NewDesc("refhub_queue_ready_lanes", "Portal lanes due for work now.", nil, nil)
	parkedDesc = prometheus.NewDesc("refhub_queue_parked_lanes", "Portal lanes parked until their portal is reconnected.", nil, nil)
	lagDesc    = prometheus.NewDesc("refhub_queue_lag_seconds", "Age of the oldest waiting event, all portals.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- readyDesc
	ch <- parkedDesc
	ch <- lagDesc
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > collectorTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		s, err := c.q.Summary(ctx)
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
