package charts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/charts"
	"github.com/refhub/refhub/app/charts/chartstest"
)

// month is 30 days ending 2026-12-01 with activity on a few of them.
func month(counts map[int][2]int64) []charts.Day {
	days := make([]charts.Day, 30)
	for i := range days {
		days[i] = charts.Day{Date: time.Date(2026, 11, 2+i, 0, 0, 0, 0, time.UTC)}
		if c, ok := counts[i]; ok {
			days[i].Delivered, days[i].Failed = c[0], c[1]
		}
	}
	return days
}

// TestDaily: one pair of bars per day, heights proportional to the
// counts on one scale, no bar for a zero, a visible bar for the smallest
// count, failed bars hatched; totals in the legend and the description,
// and every day's numbers in the table.
func TestDaily(t *testing.T) {
	html, err := charts.Daily("portal-chart", month(map[int][2]int64{0: {10, 0}, 10: {40, 5}, 20: {0, 1}, 29: {20, 2}}))
	require.NoError(t, err)
	c, err := chartstest.ParseDaily(string(html), "portal-chart")
	require.NoError(t, err)

	assert.Equal(t, "Delivered and failed signups per day, last 30 days", c.Title)
	assert.Contains(t, c.Desc, "70 signups delivered and 8 signups failed")
	assert.Contains(t, c.Desc, "Today so far: 20 delivered, 2 failed")
	assert.Equal(t, []string{"Delivered (70)", "Failed (8)"}, c.Legend)
	require.Len(t, c.Days, 30)
	assert.Equal(t, "2026-11-02", c.Days[0].Date)
	assert.Equal(t, "2026-12-01", c.Days[29].Date)

	byDate := map[string]chartstest.Day{}
	for _, d := range c.Days {
		byDate[d.Date] = d
	}
	full := byDate["2026-11-12"] // 40 delivered: the top of the scale
	assert.InDelta(t, 172, full.DeliveredH, 0.1, "the largest count fills the plot (scale 0–40)")
	assert.InDelta(t, full.DeliveredH/4, byDate["2026-11-02"].DeliveredH, 0.1, "10 is a quarter of 40")
	assert.InDelta(t, full.DeliveredH/2, byDate["2026-12-01"].DeliveredH, 0.1, "20 is half of 40")
	assert.InDelta(t, full.DeliveredH/8, byDate["2026-11-12"].FailedH, 0.1, "failed on the same scale: 5 of 40")
	assert.True(t, full.FailedHatched, "failed bars are hatched, not told apart by colour alone")
	assert.Zero(t, byDate["2026-11-22"].DeliveredH, "no bar for zero")
	assert.GreaterOrEqual(t, byDate["2026-11-22"].FailedH, 2.0, "one failure still shows")
	assert.Zero(t, byDate["2026-11-03"].DeliveredH+byDate["2026-11-03"].FailedH, "an empty day has no bars")
	assert.Equal(t, "Sun 22 Nov: 0 delivered, 1 failed", byDate["2026-11-22"].Tooltip)

	require.Len(t, c.Rows, 30)
	assert.Equal(t, []string{"Mon 2 Nov", "10", "0"}, c.Rows[0])
	assert.Equal(t, []string{"Today, Tue 1 Dec", "20", "2"}, c.Rows[29])
	assert.Contains(t, string(html), "UTC days")
}

// TestDailyNotSent: signups not sent to HubSpot (a kind the source sends
// nothing for) draw no bars but are counted in the description, the
// caption and a column of the table, which is there only when there are
// some.
func TestDailyNotSent(t *testing.T) {
	days := month(map[int][2]int64{10: {4, 1}, 29: {2, 0}})
	days[10].NotSent, days[29].NotSent = 3, 5
	html, err := charts.Daily("source-chart", days)
	require.NoError(t, err)
	c, err := chartstest.ParseDaily(string(html), "source-chart")
	require.NoError(t, err)
	assert.Contains(t, c.Desc, "6 signups delivered and 1 signup failed")
	assert.Contains(t, c.Desc, "8 signups not sent to HubSpot")
	assert.Equal(t, []string{"Delivered (6)", "Failed (1)"}, c.Legend, "no series of bars for them")
	require.Len(t, c.Rows, 30)
	assert.Equal(t, []string{"Thu 12 Nov", "4", "1", "3"}, c.Rows[10])
	assert.Equal(t, []string{"Today, Tue 1 Dec", "2", "0", "5"}, c.Rows[29])
	assert.Contains(t, string(html), `<th scope="col" class="num">Not sent</th>`)
	assert.Contains(t, string(html), "Signups not sent to HubSpot (8) have no bars")

	html, err = charts.Daily("source-chart", month(map[int][2]int64{10: {4, 1}}))
	require.NoError(t, err)
	assert.NotContains(t, string(html), "Not sent", "no column while every signup is sent")
}

// TestDailyScale: the scale's top is the smallest of 2, 4, 6, 8, 10 × a
// power of ten at or above the largest count, so its middle line is a
// whole number too; a month without activity still draws a 0–2 scale.
func TestDailyScale(t *testing.T) {
	tests := []struct {
		name  string
		max   int64
		ticks []string
	}{
		{"empty", 0, []string{"0", "1", "2"}},
		{"one", 1, []string{"0", "1", "2"}},
		{"five", 5, []string{"0", "3", "6"}},
		{"eleven", 11, []string{"0", "10", "20"}},
		{"a thousand and one", 1001, []string{"0", "1000", "2000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html, err := charts.Daily("c", month(map[int][2]int64{3: {tt.max, 0}}))
			require.NoError(t, err)
			var ticks []string
			for _, part := range strings.Split(string(html), `<text class="tick"`)[1:] {
				ticks = append(ticks, part[strings.Index(part, ">")+1:strings.Index(part, "<")])
			}
			assert.Equal(t, tt.ticks, ticks)
		})
	}
	_, err := charts.Daily("c", nil)
	assert.Error(t, err, "no days")
}

// TestSpark: the delivered line rises with the counts and ends on today, a
// triangle marks each day with failures, and the title says the totals.
func TestSpark(t *testing.T) {
	html, err := charts.Spark("spark-1001", "acme.hubspot.test", month(map[int][2]int64{5: {4, 0}, 6: {8, 1}, 29: {2, 3}}))
	require.NoError(t, err)
	s, err := chartstest.ParseSpark(string(html), "spark-1001")
	require.NoError(t, err)
	assert.Equal(t, "acme.hubspot.test, last 30 days (UTC): 14 delivered, 4 failed; today 2 delivered, 3 failed", s.Title)
	require.Len(t, s.Points, 30)
	base := s.Points[0][1]
	assert.Equal(t, base, s.Points[1][1], "days without deliveries sit on the base line")
	assert.Less(t, s.Points[6][1], s.Points[5][1], "8 is drawn higher than 4 (smaller y)")
	assert.InDelta(t, base-s.Points[6][1], 2*(base-s.Points[5][1]), 0.15, "heights proportional")
	assert.InDelta(t, base-s.Points[6][1], 4*(base-s.Points[29][1]), 0.15)
	assert.Equal(t, 2, s.Fails, "one marker per day with failures")
	for i := 1; i < len(s.Points); i++ {
		assert.Greater(t, s.Points[i][0], s.Points[i-1][0], "days left to right")
	}

	_, err = charts.Spark("s", "x", month(nil)[:1])
	assert.Error(t, err, "a trend needs two days")
}
