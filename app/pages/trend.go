package pages

import (
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/refhub/refhub/app/charts"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// trendView is the chart card of the portal and source pages: delivered
// and failed signups per UTC day, and the queue now.
type trendView struct {
	Chart    template.HTML
	Days     int
	Queued   int64
	QueueAge string // how long the oldest waiting signup has waited, in words
	Where    string // whose queue: "this portal's" or the source's portals'
}

// portalTrend is the chart card of a portal.
func (h *Pages) portalTrend(ctx context.Context, p tenants.Portal) (trendView, error) {
	t, err := h.ws.Portals.Trend(ctx, p, workspace.TrendDays)
	if err != nil {
		return trendView{}, err
	}
	return trendCard("portal-chart", "in this portal's queue", t)
}

// sourceTrend is the chart card of a source.
func (h *Pages) sourceTrend(ctx context.Context, src tenants.Source) (trendView, error) {
	t, err := h.ws.Sources.Trend(ctx, src, workspace.TrendDays)
	if err != nil {
		return trendView{}, err
	}
	return trendCard("source-chart", "in the queues of the portals this source sends to", t)
}

func trendCard(id, where string, t workspace.Trend) (trendView, error) {
	chart, err := charts.Daily(id, chartDays(t.Days))
	if err != nil {
		return trendView{}, err
	}
	return trendView{Chart: chart, Days: len(t.Days), Queued: t.Queued, Where: where,
		QueueAge: waited(time.Duration(t.QueueAgeSeconds * float64(time.Second)))}, nil
}

// homeRow is a portal on the workspace home, with its trend.
type homeRow struct {
	workspace.PortalSummary
	Spark             template.HTML
	Delivered, Failed int64 // over the trend's days
}

// homeRows adds each portal's sparkline of the last days.
func (h *Pages) homeRows(ctx context.Context, sums []workspace.PortalSummary) ([]homeRow, error) {
	out := make([]homeRow, len(sums))
	err := workspace.EachPortal(ctx, len(sums), func(ctx context.Context, i int) error {
		s := sums[i]
		days, err := h.ws.Portals.Days(ctx, s.HubID, workspace.TrendDays)
		if err != nil {
			return err
		}
		cd := chartDays(days)
		spark, err := charts.Spark(fmt.Sprintf("spark-%d", s.HubID), s.Domain, cd)
		if err != nil {
			return err
		}
		out[i] = homeRow{PortalSummary: s, Spark: spark}
		for _, d := range cd {
			out[i].Delivered += d.Delivered
			out[i].Failed += d.Failed
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func chartDays(days []workspace.TrendDay) []charts.Day {
	out := make([]charts.Day, len(days))
	for i, d := range days {
		out[i] = charts.Day{Date: d.Date, Delivered: d.Delivered, Failed: d.Failed, NotSent: d.NotSent}
	}
	return out
}

// waited says a wait in the largest unit that fits: "40 seconds",
// "3 minutes", "2 hours", "5 days".
func waited(d time.Duration) string {
	switch {
	case d < time.Minute:
		return pluralize(int(d.Seconds()), "second")
	case d < time.Hour:
		return pluralize(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return pluralize(int(d.Hours()), "hour")
	}
	return pluralize(int(d.Hours()/24), "day")
}
