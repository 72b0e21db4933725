package queue

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRetention is how long delivered and refused events (their payloads
// hold personal data: names, emails) are kept in the activity. Queued events
// and dead letters are kept until delivered, replayed or deleted.
const DefaultRetention = 30 * 24 * time.Hour

// trimBatch bounds the work of one trim step.
const trimBatch = 500

// Trim removes, for every portal with a lane, the delivered and refused
// events received before cutoff, with their activity entries. It returns
// how many it removed.
func (q *Queue) Trim(ctx context.Context, cutoff time.Time) (int, error) {
	removed := 0
	var cursor uint64
	for {
		hubs, next, err := q.rdb.SScan(ctx, knownKey, cursor, "", 500).Result()
		if err != nil {
			return removed, err
		}
		for _, h := range hubs {
			hub, _ := strconv.ParseInt(h, 10, 64)
			n, err := q.trimPortal(ctx, hub, cutoff)
			removed += n
			if err != nil {
				return removed, err
			}
		}
		if cursor = next; cursor == 0 {
			return removed, nil
		}
	}
}

func (q *Queue) trimPortal(ctx context.Context, hub int64, cutoff time.Time) (int, error) {
	srcs, err := q.rdb.SMembers(ctx, sourcesKey(hub)).Result()
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, src := range srcs {
		kept := 0 // old events that stay (queued, dead letters) are skipped
		for {
			n, k, full, err := q.trimStep(ctx, hub, src, cutoff, kept)
			removed, kept = removed+n, kept+k
			if err != nil {
				return removed, err
			}
			if !full {
				break
			}
		}
	}
	return removed, nil
}

// trimStep looks at up to trimBatch events older than cutoff (after the
// first skip ones) and removes the finished ones. It returns how many it
// removed and kept, and whether it saw a full batch.
func (q *Queue) trimStep(ctx context.Context, hub int64, src string, cutoff time.Time, skip int) (int, int, bool, error) {
	ids, err := q.rdb.ZRangeByScore(ctx, activityKey(hub, src), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(cutoff.UnixMilli(), 10), Offset: int64(skip), Count: trimBatch}).Result()
	if err != nil || len(ids) == 0 {
		return 0, 0, false, err
	}
	full := len(ids) == trimBatch
	vals, err := q.rdb.HMGet(ctx, eventsKey(hub), ids...).Result()
	if err != nil {
		return 0, 0, false, err
	}
	var drop, dropIndex []string
	for i, v := range vals {
		s, ok := v.(string)
		if !ok { // already gone: just drop the index entry
			dropIndex = append(dropIndex, ids[i])
			continue
		}
		var ev struct {
			Status Status `json:"status"`
		}
		if json.Unmarshal([]byte(s), &ev) == nil && (ev.Status == Delivered || ev.Status == NotSent || ev.Status == Rejected) {
			drop = append(drop, ids[i])
		}
	}
	kept := len(ids) - len(drop) - len(dropIndex)
	if len(drop)+len(dropIndex) == 0 {
		return 0, kept, full, nil
	}
	pipe := q.rdb.TxPipeline()
	if len(drop) > 0 {
		pipe.HDel(ctx, eventsKey(hub), drop...)
	}
	members := make([]any, 0, len(drop)+len(dropIndex))
	for _, id := range append(drop, dropIndex...) {
		members = append(members, id)
	}
	pipe.ZRem(ctx, activityKey(hub, src), members...)
	pipe.ZRem(ctx, refusedKey(hub, src), members...)
	_, err = pipe.Exec(ctx)
	return len(drop), kept, full, err
}
