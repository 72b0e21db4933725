package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

// settle queues a signup of src now and records it delivered or failed at
// once, as a delivery round would.
func (e *env) settle(t *testing.T, hub int64, src string, status queue.Status) {
	t.Helper()
	ctx := context.Background()
	ev := e.enqueue(t, hub, src, "p"+queue.NewEventID(e.clock.Now())+"@example.com")
	items, err := e.q.Head(ctx, hub, 1000)
	require.NoError(t, err)
	for _, it := range items {
		if it.Event.ID == ev.ID {
			ev.Status = status
			require.NoError(t, e.q.Finish(ctx, hub, []queue.Update{{StreamID: it.StreamID, Event: ev}}))
			return
		}
	}
	t.Fatalf("event %s not on the lane", ev.ID)
}

// at puts the clock on day offset from t0's (negative: before), at hh:mm UTC.
func (e *env) at(t *testing.T, offset, hh, mm int) {
	t.Helper()
	want := time.Date(2026, 3, 10+offset, hh, mm, 0, 0, time.UTC)
	require.False(t, want.Before(e.clock.Now()), "the clock only moves forward")
	e.clock.Advance(want.Sub(e.clock.Now()))
}

// TestSeries: the last 30 UTC days, oldest first, ending today; days
// without activity are zeros; a day starts at midnight UTC; activity
// before the window is left out; per-source counts are the source's only;
// another portal's activity is not counted.
func TestSeries(t *testing.T) {
	e := newEnvAt(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	e.at(t, -30, 12, 0) // the day before the window
	e.settle(t, 1001, "src_a", queue.Delivered)
	e.at(t, -29, 8, 0) // the window's first day
	e.settle(t, 1001, "src_a", queue.Delivered)
	e.settle(t, 1001, "src_a", queue.Failed)
	e.at(t, -10, 9, 30)
	e.settle(t, 1001, "src_a", queue.Delivered)
	e.settle(t, 1001, "src_b", queue.Delivered)
	e.settle(t, 1002, "src_a", queue.Failed) // another portal
	e.at(t, -1, 23, 59)                      // just before midnight UTC…
	e.settle(t, 1001, "src_b", queue.Failed)
	e.at(t, 0, 0, 1) // …and just after
	e.settle(t, 1001, "src_a", queue.Delivered)
	e.settle(t, 1001, "src_a", queue.Delivered)
	ev := e.enqueue(t, 1001, "src_a", "waiting@example.com") // received, not yet delivered
	require.Equal(t, "2026-03-10", ev.ReceivedAt.Format(time.DateOnly))
	e.at(t, 0, 18, 0)

	counts := func(src string) map[string][2]int64 {
		t.Helper()
		days, err := e.q.Series(ctx, 1001, src, queue.SeriesDays)
		require.NoError(t, err)
		require.Len(t, days, 30)
		assert.Equal(t, time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC), days[0].Date, "the window's first day: today - 29")
		assert.Equal(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), days[29].Date, "the last day is today (UTC)")
		out := map[string][2]int64{}
		for i, d := range days {
			if i > 0 {
				assert.Equal(t, 24*time.Hour, d.Date.Sub(days[i-1].Date), "one entry per day, gaps included")
			}
			if d.Delivered != 0 || d.Failed != 0 {
				out[d.Date.Format(time.DateOnly)] = [2]int64{d.Delivered, d.Failed}
			}
		}
		return out
	}
	assert.Equal(t, map[string][2]int64{
		"2026-02-09": {1, 1}, "2026-02-28": {2, 0}, "2026-03-09": {0, 1}, "2026-03-10": {2, 0},
	}, counts(""), "delivered and failed per day; every other day is zero")
	assert.Equal(t, map[string][2]int64{"2026-02-09": {1, 1}, "2026-02-28": {1, 0}, "2026-03-10": {2, 0}}, counts("src_a"))
	assert.Equal(t, map[string][2]int64{"2026-02-28": {1, 0}, "2026-03-09": {0, 1}}, counts("src_b"))

	week, err := e.q.Series(ctx, 1001, "", 7)
	require.NoError(t, err)
	require.Len(t, week, 7)
	assert.Equal(t, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), week[0].Date)
	assert.Equal(t, int64(3), week[6].Received, "today's received count includes the signup still waiting")
	assert.Equal(t, int64(1), week[5].Failed)

	none, err := e.q.Series(ctx, 4242, "", 30)
	require.NoError(t, err)
	require.Len(t, none, 30, "a portal without activity has a series of zeros")
	for _, d := range none {
		assert.Zero(t, d.DayStats)
	}
}

// TestSeriesRetention: a day's counters live StatsDays (35) days after
// their last write, so every day of the 30-day window is whole; a window
// longer than 30 days or shorter than one is refused; deleting the portal
// removes the counters of every day it keeps.
func TestSeriesRetention(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.settle(t, 1001, "src_a", queue.Delivered)
	ttl, err := e.rdb.PTTL(ctx, "{p:1001}:stats:20260310").Result()
	require.NoError(t, err)
	assert.InDelta(t, (35 * 24 * time.Hour).Seconds(), ttl.Seconds(), 5, "daily counters expire 35 days after their last write")

	for _, days := range []int{0, -1, 31} {
		_, err := e.q.Series(ctx, 1001, "", days)
		assert.Error(t, err, "%d days", days)
	}

	e.at(t, 34, 23, 0) // the first day's counters are 34 days old, still kept
	e.settle(t, 1001, "src_a", queue.Failed)
	require.Equal(t, int64(1), e.rdb.Exists(ctx, "{p:1001}:stats:20260310").Val())
	require.NoError(t, e.q.PurgePortal(ctx, 1001, []string{"src_a"}))
	assert.Empty(t, keys(t, e.rdb), "every day's counters are purged with the portal")
}
