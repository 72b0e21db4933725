package deploy_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// series is what /metrics exposes: for each name a selector can use, the
// label values seen for each label.
type series map[string]map[string]map[string]bool

// exposed starts refhub, drives a little of everything through it (an
// install, accepted, refused and dead-lettered signups, a delivery) so that
// labelled metrics have series, and returns what its metrics registry -- the
// one /metrics serves -- holds.
func exposed(t *testing.T) series {
	t.Helper()
	env := apptest.Start(t, apptest.Options{})
	env.Sim.AddProperty(1001, hubspottest.Property{Name: "rf_referral_count", Label: "Referral count", Type: "number",
		FieldType: "number", GroupName: "contactinformation"})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "referrals_count", "rf_referral_count"), nil, "update")
	apptest.PostMany(t, src.WebhookURL, [][]byte{[]byte(`{"email":"ok@example.com","referrals_count":"2"}`),
		[]byte(`{"email":"bad@example.com","referrals_count":"many"}`)}, 1)
	status, _ := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"first_name":"no email"}`))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	env.Drain(context.Background())
	require.Len(t, b.DeadLetters(src.ID), 1, "the text in a number property is dead-lettered")

	out := series{}
	for name, f := range env.Metrics() {
		names := []string{name}
		if t := f.GetType().String(); t == "HISTOGRAM" || t == "SUMMARY" {
			names = append(names, name+"_bucket", name+"_sum", name+"_count")
		}
		for _, n := range names {
			seen := map[string]map[string]bool{}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if seen[l.GetName()] == nil {
						seen[l.GetName()] = map[string]bool{}
					}
					seen[l.GetName()][l.GetValue()] = true
				}
			}
			if strings.HasSuffix(n, "_bucket") {
				seen["le"] = nil // any bucket bound
			}
			out[n] = seen
		}
	}
	return out
}

// fromPrometheus are the series and labels Prometheus adds itself.
var fromPrometheus = map[string]bool{"up": true, "job": true, "instance": true}

// checkExpr parses a PromQL expression and checks every metric it selects
// is one refhub exposes, with the labels it matches on and groups by, and,
// for an exact match, a value refhub really gives that label. It returns
// the refhub metrics named.
func checkExpr(t *testing.T, where, expr string, have series) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if !assert.NoError(t, err, "%s: %s", where, expr) {
		return nil
	}
	var named []string
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if fromPrometheus[n.Name] {
				return nil
			}
			named = append(named, n.Name)
			labelsOf, ok := have[n.Name]
			if !assert.True(t, ok, "%s: %s is not a metric refhub exposes", where, n.Name) {
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name == labels.MetricName || fromPrometheus[m.Name] {
					continue
				}
				values, ok := labelsOf[m.Name]
				assert.True(t, ok, "%s: %s has no label %q", where, n.Name, m.Name)
				if ok && m.Type == labels.MatchEqual {
					assert.True(t, values[m.Value], "%s: %s{%s=%q} is never exposed", where, n.Name, m.Name, m.Value)
				}
			}
		case *parser.AggregateExpr:
			for _, g := range n.Grouping {
				found := fromPrometheus[g]
				for _, sel := range parser.ExtractSelectors(n.Expr) {
					for _, m := range sel {
						if m.Name == labels.MetricName {
							_, ok := have[m.Value][g]
							found = found || ok
						}
					}
				}
				assert.True(t, found, "%s: groups by %q, which no metric in %s has", where, g, n.Expr)
			}
		}
		return nil
	})
	return named
}

// TestAlertRulesNameRealMetrics: alerts.yaml loads as Prometheus loads rule
// files, every metric it names is exposed by refhub, and there is an alert
// for each thing that needs a person.
func TestAlertRulesNameRealMetrics(t *testing.T) {
	have := exposed(t)
	groups, errs := rulefmt.ParseFile("prometheus/alerts.yaml", false, model.LegacyValidation,
		parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	used := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			assert.NotEmpty(t, r.Alert, "alert rules only")
			assert.NotEmpty(t, r.Labels["severity"], "%s has a severity", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], "%s says what to do", r.Alert)
			for _, m := range checkExpr(t, "alert "+r.Alert, r.Expr, have) {
				used[m] = true
			}
		}
	}
	for _, m := range []string{
		"refhub_queue_parked_lanes",    // a parked portal
		"refhub_dead_letters_total",    // dead letters growing
		"refhub_queue_lag_seconds",     // queue age above a threshold
		"refhub_hubspot_429_total",     // 429s from HubSpot
		"refhub_token_refreshes_total", // refresh failures
		"refhub_redis_up",              // Redis unavailable
	} {
		assert.True(t, used[m], "an alert watches %s", m)
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// TestDashboardNamesRealMetrics: every panel of the Grafana dashboard
// queries metrics refhub exposes, through the dashboard's data-source
// variable, and the dashboard shows each part of the flow.
func TestDashboardNamesRealMetrics(t *testing.T) {
	have := exposed(t)
	raw, err := os.ReadFile("grafana/refhub.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d))
	assert.NotEmpty(t, d.UID)
	require.Len(t, d.Templating.List, 1)
	assert.Equal(t, "datasource", d.Templating.List[0].Type)
	assert.Equal(t, "prometheus", d.Templating.List[0].Query)
	// Grafana fills in its own variables before Prometheus sees the query.
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d is unique", p.ID)
		ids[p.ID] = true
		assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "%q fits the grid", p.Title)
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "${datasource}", p.Datasource.UID, "%q uses the data-source variable", p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			for _, m := range checkExpr(t, "panel "+p.Title, grafana.Replace(tg.Expr), have) {
				used[m] = true
			}
		}
	}
	for _, m := range []string{
		"refhub_webhook_signups_total", "refhub_http_requests_total", // ingest rate and answers by status
		"refhub_queue_depth", "refhub_queue_lag_seconds", // queue depth and oldest-event age
		"refhub_delivery_events_total", "refhub_delivery_failures_total", // deliveries and failures by class
		"refhub_hubspot_calls_total", "refhub_hubspot_429_total", // HubSpot calls and 429s
		"refhub_token_refreshes_total", "refhub_queue_parked_lanes", "refhub_dead_letters_total",
	} {
		assert.True(t, used[m], "the dashboard shows %s", m)
	}
	var names []string
	for m := range used {
		names = append(names, m)
	}
	sort.Strings(names)
	t.Logf("metrics on the dashboard: %s", strings.Join(names, ", "))
}
