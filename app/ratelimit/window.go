package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Window is a budget of max calls per period under one name, shared by
// every replica: a sliding window (any period-long stretch holds at most max
// calls, so a fixed window of the same length on the other side is never
// exceeded), and a pause every replica honours once the other side asked
// to wait (a 429's Retry-After, an IP block).
type Window struct {
	rdb    redis.UniversalClient
	name   string
	max    int
	period time.Duration
	clock  Clock
}

// NewWindow returns the window named name (a hash tag of its own, so its
// keys share a Redis Cluster slot).
func NewWindow(rdb redis.UniversalClient, name string, max int, period time.Duration, clock Clock) *Window {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Window{rdb: rdb, name: name, max: max, period: period, clock: clock}
}

func windowKey(name string) string { return "{rl:" + name + "}" }
func pauseKey(name string) string  { return "{rl:" + name + "}:pause" }

// takeScript takes one slot unless the window is paused or full; it answers
// {1} or {0, ms to wait}.
// KEYS: log zset, pause. ARGV: now ms, period ms, max, member.
var takeScript = redis.NewScript(`
local now, period, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
if p > now then return {0, p - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
if count >= max then
  local e = redis.call('ZRANGE', KEYS[1], count - max, count - max, 'WITHSCORES')
  return {0, tonumber(e[2]) + period - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], period + 1000)
return {1}
`)

// Take takes one call slot if the window has room now; otherwise it takes
// nothing and says how long until it may have room.
func (w *Window) Take(ctx context.Context) (time.Duration, error) {
	res, err := takeScript.Run(ctx, w.rdb, []string{windowKey(w.name), pauseKey(w.name)},
		w.clock.Now().UnixMilli(), w.period.Milliseconds(), w.max, randomHex(8)).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("rate window %s: %w", w.name, err)
	}
	if res[0] == 1 {
		return 0, nil
	}
	return time.Duration(res[1]) * time.Millisecond, nil
}

// pauseScript moves the pause's end later, never earlier.
// KEYS: pause. ARGV: until ms, ttl ms.
var pauseScript = redis.NewScript(`
local p = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > p then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`)

// Pause stops every replica's calls through the window for d.
func (w *Window) Pause(ctx context.Context, d time.Duration) error {
	until := w.clock.Now().Add(d)
	return pauseScript.Run(ctx, w.rdb, []string{pauseKey(w.name)}, strconv.FormatInt(until.UnixMilli(), 10),
		(d + time.Second).Milliseconds()).Err()
}
