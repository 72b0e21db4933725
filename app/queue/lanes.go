package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Global lane bookkeeping; one hash slot ({lanes}) so the claim is atomic.
const (
	readyKey  = "{lanes}:ready"  // zset hub -> due time (ms)
	leaseKey  = "{lanes}:lease"  // hash hub -> "owner|expiry ms"
	knownKey  = "{lanes}:known"  // set of hubs that have a lane
	parkedKey = "{lanes}:parked" // set of hubs parked until reconnected
	holdKey   = "{lanes}:hold"   // hash hub -> ms before which the lane must not run (backoff, rate limit)
)

// signal marks a lane due now. ZADD LT only lowers a score: a lane leased
// with a future visibility time becomes due, which tells its worker (via the
// conditional removal in completeScript) that new work arrived.
func signal(ctx context.Context, p redis.Cmdable, hub int64, now time.Time) *redis.IntCmd {
	return p.ZAddLT(ctx, readyKey, redis.Z{Score: float64(now.UnixMilli()), Member: hub})
}

// Signal marks a portal's lane as having work now.
func (q *Queue) Signal(ctx context.Context, hub int64) error {
	return signal(ctx, q.rdb, hub, q.now()).Err()
}

// Register records that a portal has a lane (for the sweeper).
func (q *Queue) Register(ctx context.Context, hub int64) error {
	return q.rdb.SAdd(ctx, knownKey, hub).Err()
}

// claimScript leases the first due lane that is not leased (or whose lease
// expired), moving its score to the lease expiry: if the worker dies, the
// lane becomes due again by itself. A lane on hold (backing off, or waiting
// for its rate limit) is pushed back to its hold time even if a new signal
// made it due. It returns {hub, expiry} or {false, next due time}.
// KEYS: ready, lease, hold. ARGV: now ms, owner, lease ms, scan limit.
var claimScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
for _, hub in ipairs(due) do
  local l = redis.call('HGET', KEYS[2], hub)
  local free = true
  if l then
    local exp = tonumber(string.match(l, '|(%d+)$'))
    if exp and exp > now then free = false end
  end
  local hold = tonumber(redis.call('HGET', KEYS[3], hub) or '0')
  if free and hold > now then
    redis.call('ZADD', KEYS[1], hold, hub)
    free = false
  end
  if free then
    local exp = now + tonumber(ARGV[3])
    redis.call('HSET', KEYS[2], hub, ARGV[2] .. '|' .. exp)
    redis.call('ZADD', KEYS[1], exp, hub)
    return {hub, tostring(exp)}
  end
end
local nxt = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if nxt[2] then return {false, nxt[2]} end
return {false, false}
`)

// Lease is a worker's exclusive hold on one portal's lane.
type Lease struct {
	HubID  int64
	Owner  string
	Expiry time.Time
}

// Claim leases the next due lane for owner. With no lane due it returns nil
// and how long until the next one is (0 if none is scheduled).
func (q *Queue) Claim(ctx context.Context, owner string, ttl time.Duration) (*Lease, time.Duration, error) {
	now := q.now()
	res, err := claimScript.Run(ctx, q.rdb, []string{readyKey, leaseKey, holdKey},
		now.UnixMilli(), owner, ttl.Milliseconds(), 256).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("claim lane: %w", err)
	}
	if hubStr, ok := res[0].(string); ok {
		hub, _ := strconv.ParseInt(hubStr, 10, 64)
		exp, _ := strconv.ParseInt(res[1].(string), 10, 64)
		return &Lease{HubID: hub, Owner: owner, Expiry: time.UnixMilli(exp)}, 0, nil
	}
	if next, ok := res[1].(string); ok {
		ms, _ := strconv.ParseFloat(next, 64)
		if d := time.UnixMilli(int64(ms)).Sub(now); d > 0 {
			return nil, d, nil
		}
	}
	return nil, 0, nil
}

// renewScript extends a lease held by owner; the lane's visibility time
// moves with it unless the lane was signalled meanwhile.
// KEYS: ready, lease. ARGV: hub, owner, new expiry ms.
var renewScript = redis.NewScript(`
local l = redis.call('HGET', KEYS[2], ARGV[1])
if not l then return 0 end
local owner, exp = string.match(l, '^(.*)|(%d+)$')
if owner ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(exp) then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`)

// Renew extends l by ttl. It reports false if the lease was lost.
func (q *Queue) Renew(ctx context.Context, l *Lease, ttl time.Duration) (bool, error) {
	exp := q.now().Add(ttl)
	n, err := renewScript.Run(ctx, q.rdb, []string{readyKey, leaseKey}, l.HubID, l.Owner, exp.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease of portal %d: %w", l.HubID, err)
	}
	if n == 1 {
		l.Expiry = exp
	}
	return n == 1, nil
}

// completeScript ends a lease. Mode "idle": the lane is done unless it was
// signalled since the claim (its score then differs from the lease expiry).
// Mode "at": the lane is due again at ARGV[4], and held until then if that
// is later than now (ARGV[5]). Mode "park": the lane waits for Unpark.
// KEYS: ready, lease, parked, hold. ARGV: hub, owner, mode, due ms, now ms.
var completeScript = redis.NewScript(`
local l = redis.call('HGET', KEYS[2], ARGV[1])
local owner, exp = nil, nil
if l then owner, exp = string.match(l, '^(.*)|(%d+)$') end
if owner ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[3] == 'idle' then
  if score and tonumber(score) == tonumber(exp) then redis.call('ZREM', KEYS[1], ARGV[1]) end
elseif ARGV[3] == 'park' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  if tonumber(ARGV[4]) > tonumber(ARGV[5]) then redis.call('HSET', KEYS[4], ARGV[1], ARGV[4]) end
end
return 1
`)

// Release ends a lease with the lane idle (or due again at once if new work
// arrived while it was leased).
func (q *Queue) Release(ctx context.Context, l *Lease) error {
	return q.complete(ctx, l, "idle", time.Time{})
}

// Requeue ends a lease with the lane due again at due (now: right away,
// behind every lane that was already waiting).
func (q *Queue) Requeue(ctx context.Context, l *Lease, due time.Time) error {
	return q.complete(ctx, l, "at", due)
}

// Park ends a lease and keeps the lane out of the ready set until Unpark
// (the portal needs to be reconnected). Its events stay queued.
func (q *Queue) Park(ctx context.Context, l *Lease) error {
	return q.complete(ctx, l, "park", time.Time{})
}

func (q *Queue) complete(ctx context.Context, l *Lease, mode string, due time.Time) error {
	// Finish the bookkeeping even if the caller's context was cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := completeScript.Run(ctx, q.rdb, []string{readyKey, leaseKey, parkedKey, holdKey},
		l.HubID, l.Owner, mode, due.UnixMilli(), q.now().UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("complete lease of portal %d: %w", l.HubID, err)
	}
	return nil
}

// Unpark makes a parked lane ready again (after a reconnect).
func (q *Queue) Unpark(ctx context.Context, hub int64) error {
	pipe := q.rdb.Pipeline()
	pipe.SRem(ctx, parkedKey, hub)
	pipe.HDel(ctx, holdKey, strconv.FormatInt(hub, 10))
	pipe.ZAdd(ctx, readyKey, redis.Z{Score: float64(q.now().UnixMilli()), Member: hub})
	_, err := pipe.Exec(ctx)
	return err
}

// Sweep finds lanes with waiting events that are neither ready, leased nor
// parked (their signal was lost, e.g. a crash between enqueue and signal)
// and makes them ready. It returns how many it revived.
func (q *Queue) Sweep(ctx context.Context) (int, error) {
	revived := 0
	var cursor uint64
	for {
		hubs, next, err := q.rdb.SScan(ctx, knownKey, cursor, "", 500).Result()
		if err != nil {
			return revived, err
		}
		n, err := q.sweepBatch(ctx, hubs)
		revived += n
		if err != nil {
			return revived, err
		}
		if cursor = next; cursor == 0 {
			return revived, nil
		}
	}
}

func (q *Queue) sweepBatch(ctx context.Context, hubs []string) (int, error) {
	if len(hubs) == 0 {
		return 0, nil
	}
	type probe struct {
		depth  *redis.IntCmd
		score  *redis.FloatCmd
		lease  *redis.StringCmd
		parked *redis.BoolCmd
	}
	probes := make([]probe, len(hubs))
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hubs {
			hub, _ := strconv.ParseInt(h, 10, 64)
			probes[i] = probe{p.XLen(ctx, laneKey(hub)), p.ZScore(ctx, readyKey, h), p.HGet(ctx, leaseKey, h), p.SIsMember(ctx, parkedKey, h)}
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return 0, err
	}
	revived := 0
	for i, pr := range probes {
		if pr.depth.Val() == 0 || pr.score.Err() == nil || pr.lease.Err() == nil || pr.parked.Val() {
			continue
		}
		hub, _ := strconv.ParseInt(hubs[i], 10, 64)
		if err := q.Signal(ctx, hub); err != nil {
			return revived, err
		}
		revived++
	}
	return revived, nil
}

// ReadyLanes returns how many lanes are waiting to be worked on now.
func (q *Queue) ReadyLanes(ctx context.Context) (int64, error) {
	return q.rdb.ZCount(ctx, readyKey, "-inf", strconv.FormatInt(q.now().UnixMilli(), 10)).Result()
}

// Parked reports whether a portal's lane is parked.
func (q *Queue) Parked(ctx context.Context, hub int64) (bool, error) {
	return q.rdb.SIsMember(ctx, parkedKey, hub).Result()
}

// Summary is the state of all lanes, for metrics.
type Summary struct {
	Depth  int64         // events waiting, all portals
	Ready  int64         // lanes due now
	Parked int64         // lanes parked until reconnect
	Lag    time.Duration // age of the oldest waiting event
}

// Summary adds up every lane.
func (q *Queue) Summary(ctx context.Context) (Summary, error) {
	var s Summary
	var err error
	if s.Ready, err = q.ReadyLanes(ctx); err != nil {
		return s, err
	}
	if s.Parked, err = q.rdb.SCard(ctx, parkedKey).Result(); err != nil {
		return s, err
	}
	now := q.now()
	var cursor uint64
	for {
		hubs, next, err := q.rdb.SScan(ctx, knownKey, cursor, "", 1000).Result()
		if err != nil {
			return s, err
		}
		lens := make([]*redis.IntCmd, len(hubs))
		heads := make([]*redis.XMessageSliceCmd, len(hubs))
		_, err = q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range hubs {
				hub, _ := strconv.ParseInt(h, 10, 64)
				lens[i] = p.XLen(ctx, laneKey(hub))
				heads[i] = p.XRangeN(ctx, laneKey(hub), "-", "+", 1)
			}
			return nil
		})
		if err != nil {
			return s, err
		}
		for i := range hubs {
			s.Depth += lens[i].Val()
			if msgs := heads[i].Val(); len(msgs) > 0 {
				if ms, err := strconv.ParseInt(strings.SplitN(msgs[0].ID, "-", 2)[0], 10, 64); err == nil {
					if lag := now.Sub(time.UnixMilli(ms)); lag > s.Lag {
						s.Lag = lag
					}
				}
			}
		}
		if cursor = next; cursor == 0 {
			return s, nil
		}
	}
}

// ParkedLanes returns the portals whose lanes are parked.
func (q *Queue) ParkedLanes(ctx context.Context) ([]int64, error) {
	ms, err := q.rdb.SMembers(ctx, parkedKey).Result()
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(ms))
	for _, m := range ms {
		if h, err := strconv.ParseInt(m, 10, 64); err == nil {
			out = append(out, h)
		}
	}
	return out, nil
}

// TakeChore returns true for exactly one caller per period across replicas
// (a lease on a named periodic chore, such as trimming old activity).
func (q *Queue) TakeChore(ctx context.Context, name string, period time.Duration) (bool, error) {
	return q.rdb.SetNX(ctx, "{lanes}:chore:"+name, 1, period).Result()
}
