package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/internal/redisscan"
	"github.com/refhub/refhub/tenants"
)

// DedupeWindow is how long an identical webhook body for a source is
// recognised as a repeat.
const DedupeWindow = 24 * time.Hour

// StatsDays is how many UTC days of daily counters a portal keeps: the
// charts show the last SeriesDays, and a day's counters outlive the window
// by the days a key is still written to after it opens.
const StatsDays = 35

// statsTTL is how long a day's counters live after their last write.
const statsTTL = StatsDays * 24 * time.Hour

// Queue is the Redis-backed event queue.
type Queue struct {
	rdb         redis.UniversalClient
	now         func() time.Time
	enq         batcher // concurrent Enqueue calls share round trips
	refusedKept int
}

// New returns a queue on rdb.
func New(rdb redis.UniversalClient, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{rdb: rdb, now: now, refusedKept: DefaultRefusedKept}
}

// Redis returns the client the queue uses.
func (q *Queue) Redis() redis.UniversalClient { return q.rdb }

// Keys of one portal; all share the portal's hash tag.
func laneKey(hub int64) string                 { return tenants.PortalKey(hub, "lane") }
func eventsKey(hub int64) string               { return tenants.PortalKey(hub, "ev") }
func activityKey(hub int64, src string) string { return tenants.PortalKey(hub, "act:"+src) }
func deadKey(hub int64, src string) string     { return tenants.PortalKey(hub, "dead:"+src) }

// refusedKey indexes a source's refused requests, to keep only the newest.
func refusedKey(hub int64, src string) string { return tenants.PortalKey(hub, "refused:"+src) }
func seenKey(hub int64, src, hash string) string {
	return tenants.PortalKey(hub, "seen:"+src+":"+hash)
}
func hwmKey(hub int64) string { return tenants.PortalKey(hub, "hwm") }

// sentKey records whom a source delivered or dead-lettered at a portal, by
// email hash (Finish writes it, a reconcile reads it).
func sentKey(hub int64, src string) string { return tenants.PortalKey(hub, "sent:"+src) }

// EmailHash is how the record of delivered people names a person: the
// first 96 bits of the SHA-256 of the email in lower case, so the record
// holds no address.
func EmailHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:12])
}

// sourcesKey lists the sources that sent events to a portal (for trimming).
func sourcesKey(hub int64) string { return tenants.PortalKey(hub, "srcs") }
func retryKey(hub int64) string   { return tenants.PortalKey(hub, "retry") }
func statsKey(hub int64, day time.Time) string {
	return tenants.PortalKey(hub, "stats:"+day.UTC().Format("20060102"))
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// DefaultRefusedKept is how many refused requests a source keeps in a
// portal's activity: the newest, so a sender refused over and over does
// not fill Redis with records of it.
const DefaultRefusedKept = 1000

// KeepRefused sets how many refused requests each source keeps per portal
// (DefaultRefusedKept unless set).
func (q *Queue) KeepRefused(n int) { q.refusedKept = n }

// recordRejectedScript stores a refused request in the source's activity
// and drops the oldest refused ones beyond the number kept.
// KEYS: events, activity, refused, sources, stats.
// ARGV: id, json, received ms, source id, stats ttl ms, kept.
var recordRejectedScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('HINCRBY', KEYS[5], 'rejected', 1)
redis.call('HINCRBY', KEYS[5], ARGV[4] .. ':rejected', 1)
redis.call('PEXPIRE', KEYS[5], ARGV[5])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[6])
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[3], over)
  for i = 1, #old, 2 do
    redis.call('HDEL', KEYS[1], old[i])
    redis.call('ZREM', KEYS[2], old[i])
  end
end
return 1
`)

// RecordRejected stores a webhook request that was refused (4xx) in the
// source's activity, so the admin sees why. It is never queued; a source
// keeps the newest refused requests only (KeepRefused).
func (q *Queue) RecordRejected(ctx context.Context, ev *Event) error {
	raw, err := ev.encode()
	if err != nil {
		return err
	}
	keys := []string{eventsKey(ev.HubID), activityKey(ev.HubID, ev.SourceID), refusedKey(ev.HubID, ev.SourceID),
		sourcesKey(ev.HubID), statsKey(ev.HubID, ev.ReceivedAt)}
	return recordRejectedScript.Run(ctx, q.rdb, keys, ev.ID, raw, ev.ReceivedAt.UnixMilli(), ev.SourceID,
		statsTTL.Milliseconds(), q.refusedKept).Err()
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
	NotSent                               int64 // of a kind the source sends nothing to HubSpot for
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
		NotSent: n(string(NotSent)), Calls: atoi(m["calls"]), RateLimited: atoi(m["rate_limited"])}, nil
}

// PurgePortal removes a portal's lane, events, activity, dead letters and
// counters, and its entries in the global lane sets. sources are the
// sources that ever sent to it. (Its rate-limit state is app/ratelimit's:
// Limiter.Purge.)
func (q *Queue) PurgePortal(ctx context.Context, hub int64, sources []string) error {
	keys := []string{laneKey(hub), eventsKey(hub), hwmKey(hub), retryKey(hub), sourcesKey(hub),
		backlogKey(hub)}
	known, err := q.rdb.SMembers(ctx, sourcesKey(hub)).Result()
	if err != nil {
		return err
	}
	for _, src := range append(sources, known...) {
		keys = append(keys, activityKey(hub, src), deadKey(hub, src), refusedKey(hub, src), sentKey(hub, src))
	}
	now := q.now()
	for d := 0; d <= StatsDays; d++ {
		keys = append(keys, statsKey(hub, now.AddDate(0, 0, -d)))
	}
	// Dedupe markers outlive the events they name; left behind, a resent
	// signup would be taken for a duplicate of a purged event and dropped.
	seen, err := redisscan.Keys(ctx, q.rdb, tenants.PortalKey(hub, "seen:*"))
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
		pipe.Del(ctx, activityKey(hub, src), deadKey(hub, src), refusedKey(hub, src), sentKey(hub, src))
		// Eval, not EvalSha: in a transaction a missing script could not
		// be loaded on the fly, and purges are rare.
		forgetSourceScript.Eval(ctx, pipe, []string{backlogKey(hub)}, src)
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

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
