package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SeriesDays is the longest window of days Series answers: the last 30 UTC
// days, all of which are within the counters' retention (StatsDays).
const SeriesDays = 30

// Day is one UTC day of a portal's (or a source's) counters.
type Day struct {
	Date time.Time // midnight UTC
	DayStats
}

// Series returns the counters of the last days UTC days, oldest first and
// ending today: a day without activity is all zeros. If src is not empty
// the counts are that source's at the portal. Calls and RateLimited are the
// portal's whatever src is. days must be 1 to SeriesDays.
func (q *Queue) Series(ctx context.Context, hub int64, src string, days int) ([]Day, error) {
	if days < 1 || days > SeriesDays {
		return nil, fmt.Errorf("series of %d days: must be 1 to %d", days, SeriesDays)
	}
	prefix := ""
	if src != "" {
		prefix = src + ":"
	}
	fields := []string{prefix + "received", prefix + "delivered", prefix + "failed", prefix + "rejected", "calls", "rate_limited", prefix + string(NotSent)}
	out := make([]Day, days)
	cmds := make([]*redis.SliceCmd, days)
	pipe := q.rdb.Pipeline()
	for i, date := range Window(q.now(), days) {
		out[i].Date = date
		cmds[i] = pipe.HMGet(ctx, statsKey(hub, date), fields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("daily counters of portal %d: %w", hub, err)
	}
	for i, cmd := range cmds {
		n := make([]int64, len(fields))
		for j, v := range cmd.Val() {
			if s, ok := v.(string); ok {
				n[j] = atoi(s)
			}
		}
		out[i].DayStats = DayStats{Received: n[0], Delivered: n[1], Failed: n[2], Rejected: n[3], Calls: n[4], RateLimited: n[5], NotSent: n[6]}
	}
	return out, nil
}

// Window is the midnights (UTC) of the days UTC days ending on now's,
// oldest first.
func Window(now time.Time, days int) []time.Time {
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, days)
	for i := range out {
		out[i] = today.AddDate(0, 0, i-days+1)
	}
	return out
}
