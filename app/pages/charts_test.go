package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/charts/chartstest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestChartsShowTheActivity: signups delivered and failed two days ago and
// today show as those days' bars on the portal page (every source) and on
// the source page (that source only), every other day of the 30 is empty;
// the home page's sparkline marks the day with a failure and says the
// totals.
func TestChartsShowTheActivity(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock})
	ctx := context.Background()
	b := env.Install(1001, 501)
	main := b.CreateSource(1001, "Main")
	other := b.CreateSource(1001, "Other")
	twoDaysAgo := clock.Now().UTC()
	apptest.PostMany(t, main.WebhookURL, append(apptest.Signups("early", 3, ""), []byte(`{"email":"bad@"}`)), 1)
	env.Drain(ctx)

	clock.Advance(48 * time.Hour)
	today := clock.Now().UTC()
	b.Install(1001, 501) // the session of two days ago has expired
	apptest.PostMany(t, main.WebhookURL, apptest.Signups("today", 2, ""), 1)
	apptest.PostMany(t, other.WebhookURL, apptest.Signups("other", 1, ""), 1)
	env.Drain(ctx)

	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	check := func(path, id string, want map[string][2]int64) {
		t.Helper()
		status, page := apptest.Get(t, b, env.URL(path))
		require.Equal(t, http.StatusOK, status)
		c, err := chartstest.ParseDaily(page, id)
		require.NoError(t, err, path)
		require.Len(t, c.Days, 30, path)
		assert.Equal(t, day(today), c.Days[29].Date, "%s: the last day is today (UTC)", path)
		var unit float64 // the height of one signup
		for _, d := range c.Days {
			w := want[d.Date]
			assert.Equal(t, w, [2]int64{d.Delivered, d.Failed}, "%s: %s", path, d.Date)
			if w == [2]int64{} {
				assert.Zero(t, d.DeliveredH+d.FailedH, "%s: no bars on %s", path, d.Date)
				continue
			}
			if unit == 0 {
				unit = d.DeliveredH / float64(w[0])
			}
			assert.InDelta(t, unit*float64(w[0]), d.DeliveredH, 0.15, "%s: delivered bar of %s", path, d.Date)
			assert.InDelta(t, unit*float64(w[1]), d.FailedH, 0.15, "%s: failed bar of %s", path, d.Date)
		}
		var delivered, failed int64
		for _, w := range want {
			delivered, failed = delivered+w[0], failed+w[1]
		}
		assert.Equal(t, []string{fmt.Sprintf("Delivered (%d)", delivered), fmt.Sprintf("Failed (%d)", failed)}, c.Legend, path)
		assert.Contains(t, page, "Days are UTC days")
	}
	check("/app/portals/1001", "portal-chart", map[string][2]int64{day(twoDaysAgo): {3, 1}, day(today): {3, 0}})
	check("/app/sources/"+main.ID, "source-chart", map[string][2]int64{day(twoDaysAgo): {3, 1}, day(today): {2, 0}})
	check("/app/sources/"+other.ID, "source-chart", map[string][2]int64{day(today): {1, 0}})

	_, page := apptest.Get(t, b, env.URL("/app/"))
	s, err := chartstest.ParseSpark(page, "spark-1001")
	require.NoError(t, err)
	assert.Contains(t, s.Title, "acme.hubspot.test, last 30 days (UTC): 6 delivered, 1 failed; today 3 delivered, 0 failed")
	assert.Equal(t, 1, s.Fails, "the day with a failure is marked")
	require.Len(t, s.Points, 30)
	assert.Equal(t, s.Points[27][1], s.Points[29][1], "3 delivered two days ago and today: the same height")
	assert.Less(t, s.Points[29][1], s.Points[28][1], "yesterday had none")
	assert.Contains(t, page, "6 delivered · 1 failed")
}

// TestChartsShowTheQueueAge: the portal and source pages say how many
// signups wait and for how long the oldest has waited.
func TestChartsShowTheQueueAge(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	queueNow := func(path string) string {
		t.Helper()
		status, page := apptest.Get(t, b, env.URL(path))
		require.Equal(t, http.StatusOK, status)
		i := strings.Index(page, `<p class="queue-now" id="queue-now">`)
		require.GreaterOrEqual(t, i, 0, path)
		return page[i : i+strings.Index(page[i:], "</p>")]
	}
	assert.Contains(t, queueNow("/app/portals/1001"), "Nothing waiting in this portal&#39;s queue")

	apptest.PostMany(t, src.WebhookURL, apptest.Signups("waiting", 2, ""), 1)
	// Lane entries carry Redis's time, the clock started at the test's:
	// half a minute more stands for the real time the test took so far.
	clock.Advance(5*time.Minute + 30*time.Second)
	assert.Contains(t, queueNow("/app/portals/1001"), "<strong>2</strong> signups waiting in this portal&#39;s queue; the oldest for <strong>5 minutes</strong>")
	assert.Contains(t, queueNow("/app/sources/"+src.ID), "<strong>2</strong> signups waiting in the queues of the portals this source sends to; the oldest for <strong>5 minutes</strong>")

	env.Drain(context.Background())
	assert.Contains(t, queueNow("/app/sources/"+src.ID), "Nothing waiting")
}
