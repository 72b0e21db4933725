package apptest

import (
	dto "github.com/prometheus/client_model/go"
)

// Metrics gathers the app's metrics, as /metrics exposes them, by name.
func (e *Env) Metrics() map[string]*dto.MetricFamily {
	e.T.Helper()
	fams, err := e.App.Gatherer().Gather()
	if err != nil {
		e.T.Fatalf("gather metrics: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(fams))
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// Metric returns the value of the counter or gauge series name{labels}
// (labels as name, value pairs), and -1 when there is no such series.
func (e *Env) Metric(name string, labels ...string) float64 {
	e.T.Helper()
	f, ok := e.Metrics()[name]
	if !ok {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
