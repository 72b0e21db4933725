package app_test

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// TestHealthAndMetrics: liveness, readiness (Redis reachable) and metrics
// without per-portal labels.
func TestHealthAndMetrics(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("m", 3, ""), 1)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(env.URL(path))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}
	families := scrapeFamilies(t, env.URL("/metrics"), apptest.MetricsToken)
	assert.Equal(t, 3.0, sample(t, families, "refhub_queue_depth", nil))
	assert.Equal(t, 3.0, sample(t, families, "refhub_webhook_signups_total", map[string]string{"result": "accepted"}))
	token := src.WebhookURL[len(env.URL("/hooks/referral-factory/")):]
	routes := map[string]bool{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotContains(t, l.GetValue(), "1001", "no per-portal labels: %s{%s}", name, l.GetName())
				assert.NotContains(t, l.GetValue(), token, "no webhook tokens: %s{%s}", name, l.GetName())
				if l.GetName() == "route" {
					routes[l.GetValue()] = true
				}
			}
		}
	}
	assert.True(t, routes["/hooks/referral-factory/:token"], "requests are labelled by route pattern: %v", routes)

	require.NoError(t, env.Redis.Close()) // Redis unreachable from here on
	resp, err := http.Get(env.URL("/readyz"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// scrape reads a Prometheus text exposition into metric families.
func scrapeFamilies(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := scrape(t, url, token)
	require.Equal(t, http.StatusOK, status)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return families
}

// sample returns the value of the metric with exactly these labels.
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "metric %s is exposed", name)
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			match = match && labels[l.GetName()] == l.GetValue()
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		}
		return m.GetUntyped().GetValue()
	}
	t.Fatalf("metric %s%v is not exposed", name, labels)
	return 0
}
