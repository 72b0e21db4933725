package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/tenants"
)

// DedupeWindow is how long an identical webhook body for a source is
// recognised as a repeat.
const DedupeWindow = 24 * time.Hour

// statsTTL keeps daily counters for a week.
const statsTTL = 8 * 24 * time.Hour

// Queue is the Redis-backed event queue.
type Queue struct {
	rdb redis.UniversalClient
	now func() time.Time
	enq batcher // concurrent Enqueue calls share round trips
}

// New returns a queue on rdb.
func New(rdb redis.UniversalClient, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{rdb: rdb, now: now}
}

// Redis returns the client the queue uses.
func (q *Queue) Redis() redis.UniversalClient { return q.rdb }

// Keys of one portal; all share the portal's hash tag.
func laneKey(hub int64) string                 { return tenants.PortalKey(hub, "lane") }
func eventsKey(hub int64) string               { return tenants.PortalKey(hub, "ev") }
func activityKey(hub int64, src string) string { return tenants.PortalKey(hub, "act:"+src) }
func deadKey(hub int64, src string) string     { return tenants.PortalKey(hub, "dead:"+src) }
func seenKey(hub int64, src, hash string) string {
	return tenants.PortalKey(hub, "seen:"+src+":"+hash)
}
func hwmKey(hub int64) string { return tenants.PortalKey(hub, "hwm") }

// sourcesKey lists the sources that sent events to a portal (for trimming).
func sourcesKey(hub int64) string { return tenants.PortalKey(hub, "srcs") }
func retryKey(hub int64) string   { return tenants.PortalKey(hub, "retry") }
func statsKey(hub int64, day time.Time) string {
	return tenants.PortalKey(hub, "stats:"+day.UTC().Format("20060102"))
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// RecordRejected stores a webhook request that was refused (4xx) in the
// source's activity, so the admin sees why. It is never queued.
func (q *Queue) RecordRejected(ctx context.Context, ev *Event) error {
	raw, err := ev.encode()
	if err != nil {
		return err
	}
	pipe := q.rdb.TxPipeline()
	pipe.HSet(ctx, eventsKey(ev.HubID), ev.ID, raw)
	pipe.ZAdd(ctx, activityKey(ev.HubID, ev.SourceID), redis.Z{Score: float64(ev.ReceivedAt.UnixMilli()), Member: ev.ID})
	sk := statsKey(ev.HubID, ev.ReceivedAt)
	pipe.SAdd(ctx, sourcesKey(ev.HubID), ev.SourceID)
	pipe.HIncrBy(ctx, sk, "rejected", 1)
	pipe.HIncrBy(ctx, sk, ev.SourceID+":rejected", 1)
	pipe.Expire(ctx, sk, statsTTL)
	_, err = pipe.Exec(ctx)
	return err
}

// Event returns one event of a portal.
func (q *Queue) Event(ctx context.Context, hub int64, id string) (Event, error) {
	raw, err := q.rdb.HGet(ctx, eventsKey(hub), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Event{}, fmt.Errorf("event %s: %w", id, tenants.ErrNotFound)
	}
	if err != nil {
		return Event{}, err
	}
	var ev Event
	return ev, json.Unmarshal(raw, &ev)
}

// Depth returns how many events wait on a portal's lane.
func (q *Queue) Depth(ctx context.Context, hub int64) (int64, error) {
	return q.rdb.XLen(ctx, laneKey(hub)).Result()
}

// Lag returns the age of the oldest waiting event of a portal (0 if none).
func (q *Queue) Lag(ctx context.Context, hub int64) (time.Duration, error) {
	msgs, err := q.rdb.XRangeN(ctx, laneKey(hub), "-", "+", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	ms, _ := strconv.ParseInt(strings.SplitN(msgs[0].ID, "-", 2)[0], 10, 64)
	if ms == 0 {
		return 0, nil
	}
	return q.now().Sub(time.UnixMilli(ms)), nil
}

// DayStats are a portal's counters for one UTC day.
type DayStats struct {
	Received, Delivered, Failed, Rejected int64
	Calls, RateLimited                    int64 // HubSpot calls and 429 answers (portal totals)
}

// Stats returns the counters of a portal for the day of t, in total and, if
// src is not empty, for that source.
func (q *Queue) Stats(ctx context.Context, hub int64, src string, t time.Time) (DayStats, error) {
	m, err := q.rdb.HGetAll(ctx, statsKey(hub, t)).Result()
	if err != nil {
		return DayStats{}, err
	}
	prefix := ""
	if src != "" {
		prefix = src + ":"
	}
	n := func(k string) int64 { v, _ := strconv.ParseInt(m[prefix+k], 10, 64); return v }
	return DayStats{Received: n("received"), Delivered: n("delivered"), Failed: n("failed"), Rejected: n("rejected"),
		Calls: atoi(m["calls"]), RateLimited: atoi(m["rate_limited"])}, nil
}

// PurgePortal removes a portal's lane, events, activity, dead letters,
// counters and rate-limit state, and its entries in the global lane sets.
// sources are the sources that ever sent to it.
func (q *Queue) PurgePortal(ctx context.Context, hub int64, sources []string) error {
	keys := []string{laneKey(hub), eventsKey(hub), hwmKey(hub), retryKey(hub), limiterKey(hub), announcedKey(hub), sourcesKey(hub)}
	known, err := q.rdb.SMembers(ctx, sourcesKey(hub)).Result()
	if err != nil {
		return err
	}
	for _, src := range append(sources, known...) {
		keys = append(keys, activityKey(hub, src), deadKey(hub, src))
	}
	now := q.now()
	for d := 0; d < 9; d++ {
		keys = append(keys, statsKey(hub, now.AddDate(0, 0, -d)))
	}
	// Dedupe markers outlive the events they name; left behind, a resent
	// signup would be taken for a duplicate of a purged event and dropped.
	seen, err := q.scanKeys(ctx, tenants.PortalKey(hub, "seen:*"))
	if err != nil {
		return fmt.Errorf("purge portal %d: %w", hub, err)
	}
	keys = append(keys, seen...)
	pipe := q.rdb.Pipeline()
	for _, k := range keys {
		pipe.Del(ctx, k)
	}
	pipe.ZRem(ctx, readyKey, hub)
	pipe.HDel(ctx, leaseKey, strconv.FormatInt(hub, 10))
	pipe.SRem(ctx, knownKey, hub)
	pipe.SRem(ctx, parkedKey, hub)
	pipe.HDel(ctx, holdKey, strconv.FormatInt(hub, 10))
	_, err = pipe.Exec(ctx)
	return err
}

// scanKeys returns the keys matching pattern, on every master of a cluster.
func (q *Queue) scanKeys(ctx context.Context, pattern string) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if cc, ok := q.rdb.(*redis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
		return keys, err
	}
	return keys, scan(ctx, q.rdb)
}

// PurgeSource removes a deleted source's events, activity and dead letters
// from the portals it sent to. Lane entries of purged events are dropped by
// the worker that meets them (Item.Missing).
func (q *Queue) PurgeSource(ctx context.Context, hubs []int64, src string) error {
	for _, hub := range hubs {
		ids, err := q.rdb.ZRange(ctx, activityKey(hub, src), 0, -1).Result()
		if err != nil {
			return err
		}
		dead, err := q.rdb.ZRange(ctx, deadKey(hub, src), 0, -1).Result()
		if err != nil {
			return err
		}
		pipe := q.rdb.TxPipeline()
		for _, chunk := range chunks(append(ids, dead...), 500) {
			pipe.HDel(ctx, eventsKey(hub), chunk...)
		}
		pipe.Del(ctx, activityKey(hub, src), deadKey(hub, src))
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Drop removes lane entries whose event records are gone.
func (q *Queue) Drop(ctx context.Context, hub int64, streamIDs []string) error {
	if len(streamIDs) == 0 {
		return nil
	}
	return q.rdb.XDel(ctx, laneKey(hub), streamIDs...).Err()
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

// CountCalls adds a delivery round's HubSpot calls (and whether HubSpot
// answered 429) to the portal's counters of the day.
func (q *Queue) CountCalls(ctx context.Context, hub int64, calls int, rateLimited bool) error {
	k := statsKey(hub, q.now())
	pipe := q.rdb.Pipeline()
	pipe.HIncrBy(ctx, k, "calls", int64(calls))
	if rateLimited {
		pipe.HIncrBy(ctx, k, "rate_limited", 1)
	}
	pipe.PExpire(ctx, k, statsTTL)
	_, err := pipe.Exec(ctx)
	return err
}

// DeadCount returns how many dead letters a source has on a portal.
func (q *Queue) DeadCount(ctx context.Context, hub int64, src string) (int64, error) {
	return q.rdb.ZCard(ctx, deadKey(hub, src)).Result()
}

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
