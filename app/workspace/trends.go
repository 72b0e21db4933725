package workspace

import (
	"context"
	"time"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// Trends: what the charts of the portal and source pages (and the stats
// API) show — signups per UTC day over the last days, and the queue now.

// TrendDay is one UTC day of a trend.
type TrendDay struct {
	Date      time.Time `json:"-"`
	Day       string    `json:"date"` // YYYY-MM-DD, a UTC day
	Received  int64     `json:"received"`
	Delivered int64     `json:"delivered"`
	Failed    int64     `json:"failed"`
	Rejected  int64     `json:"rejected"`
	// NotSent are signups of a kind the source sends nothing to HubSpot
	// for: neither delivered nor failed.
	NotSent int64 `json:"not_sent"`
}

// Trend is a portal's or a source's signups per UTC day, oldest first and
// ending today (days without activity are zeros), and the queue now: how
// many signups wait and how long the oldest has waited.
type Trend struct {
	TimeZone        string     `json:"time_zone"` // always "UTC": days run midnight to midnight UTC
	Days            []TrendDay `json:"days"`
	Queued          int64      `json:"queued"`
	QueueAgeSeconds float64    `json:"queue_age_seconds"` // the oldest waiting signup's age; 0 when none waits
}

// TrendDays is the window the charts show.
const TrendDays = queue.SeriesDays

// Days reads a portal's counts of the last days UTC days (1 to TrendDays).
func (o *Portals) Days(ctx context.Context, hub int64, days int) ([]TrendDay, error) {
	return daysOf(ctx, o.d.Queue, hub, "", days)
}

// Trend reads a portal's counts of the last days UTC days and its lane.
func (o *Portals) Trend(ctx context.Context, p tenants.Portal, days int) (Trend, error) {
	t := Trend{TimeZone: "UTC"}
	var err error
	if t.Days, err = o.Days(ctx, p.HubID, days); err != nil {
		return t, err
	}
	if t.Queued, err = o.d.Queue.Depth(ctx, p.HubID); err != nil {
		return t, err
	}
	lag, err := o.d.Queue.Lag(ctx, p.HubID)
	t.QueueAgeSeconds = lag.Seconds()
	return t, err
}

// Trend reads a source's counts of the last days UTC days, summed over the
// portals of its workspace it sends or sent to, and the lanes of those
// portals: the signups waiting on them (other sources' included, since
// they share the lane and its pace) and the oldest one's age.
func (o *Sources) Trend(ctx context.Context, src tenants.Source, days int) (Trend, error) {
	t := Trend{TimeZone: "UTC"}
	hubs, err := o.ownPortals(ctx, src)
	if err != nil {
		return t, err
	}
	for _, date := range queue.Window(o.d.Now(), days) {
		t.Days = append(t.Days, TrendDay{Date: date, Day: date.Format(time.DateOnly)})
	}
	for _, hub := range hubs {
		if err := addDays(ctx, o.d.Queue, &t, hub, src.ID, days); err != nil {
			return t, err
		}
		depth, err := o.d.Queue.Depth(ctx, hub)
		if err != nil {
			return t, err
		}
		lag, err := o.d.Queue.Lag(ctx, hub)
		if err != nil {
			return t, err
		}
		t.Queued += depth
		t.QueueAgeSeconds = max(t.QueueAgeSeconds, lag.Seconds())
	}
	return t, nil
}

// addDays adds a portal's counts (of src if not empty) to t's days.
func addDays(ctx context.Context, q *queue.Queue, t *Trend, hub int64, src string, days int) error {
	ds, err := daysOf(ctx, q, hub, src, days)
	if err != nil {
		return err
	}
	for i, d := range ds {
		t.Days[i].Received += d.Received
		t.Days[i].Delivered += d.Delivered
		t.Days[i].Failed += d.Failed
		t.Days[i].Rejected += d.Rejected
		t.Days[i].NotSent += d.NotSent
	}
	return nil
}

func daysOf(ctx context.Context, q *queue.Queue, hub int64, src string, days int) ([]TrendDay, error) {
	series, err := q.Series(ctx, hub, src, days)
	if err != nil {
		return nil, err
	}
	out := make([]TrendDay, len(series))
	for i, d := range series {
		out[i] = TrendDay{Date: d.Date, Day: d.Date.Format(time.DateOnly), Received: d.Received,
			Delivered: d.Delivered, Failed: d.Failed, Rejected: d.Rejected, NotSent: d.NotSent}
	}
	return out, nil
}
