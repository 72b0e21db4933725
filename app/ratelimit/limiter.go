// Package ratelimit holds each portal's HubSpot call budget: a sliding
// window in Redis shared by every replica, so refhub never makes more calls
// for a portal than HubSpot allows, whichever process makes them. It owns
// the keys {p:<hub>}:rl (the window's slots) and {p:<hub>}:rlmax (the limit
// HubSpot announced), and Purge removes them.
package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

func limiterKey(hub int64) string   { return tenants.PortalKey(hub, "rl") }
func announcedKey(hub int64) string { return tenants.PortalKey(hub, "rlmax") }

// Limiter is a per-portal sliding-window rate limiter in Redis, shared by
// every replica: at most Max calls in any Window, counted exactly like
// HubSpot's TEN_SECONDLY_ROLLING policy. Every HubSpot call refhub makes for
// a portal takes a slot first. When HubSpot announces a limit in its
// X-HubSpot-RateLimit-* headers, calls must fit that window too, keeping the
// same headroom refhub's default keeps below HubSpot's 110 (1 in 11).
type Limiter struct {
	rdb    redis.UniversalClient
	clock  Clock
	max    int
	window time.Duration

	mu        sync.Mutex
	announced map[int64]hubspot.Announced // last seen per portal, to write only changes
}

// Clock is where the limiter reads the time and waits for room: the system
// clock in production, a simulated one in tests (its windows and waits then
// cost no real time).
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d, or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// New returns a limiter of max calls per window per portal on clock
// (nil: the system clock).
func New(rdb redis.UniversalClient, max int, window time.Duration, clock Clock) *Limiter {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Limiter{rdb: rdb, clock: clock, max: max, window: window, announced: map[int64]hubspot.Announced{}}
}

// reserveScript takes n slots if the window has room, else says how long
// until it will.
// KEYS: log zset, announced hash. ARGV: now ms, window ms, max, n, member prefix.
var reserveScript = redis.NewScript(`
local now, n = tonumber(ARGV[1]), tonumber(ARGV[4])
-- Windows to respect: refhub's own, and HubSpot's announced one (with
-- headroom) when it has announced one.
local wins = {{tonumber(ARGV[2]), tonumber(ARGV[3])}}
local a = redis.call('HMGET', KEYS[2], 'max', 'interval')
if a[1] and a[2] then
  local amax = tonumber(a[1])
  local safe = amax - math.ceil(amax / 11)
  if safe < 1 then safe = 1 end
  wins[2] = {tonumber(a[2]), safe}
end
local keep = 0
for _, w in ipairs(wins) do
  if w[1] > keep then keep = w[1] end
  if n > w[2] then n = w[2] end
end
-- A slot taken at t counts in a window w while now - t < w.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - keep)
local wait = 0
for _, w in ipairs(wins) do
  local count = redis.call('ZCOUNT', KEYS[1], '(' .. (now - w[1]), '+inf')
  if count + n > w[2] then
    local e = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - w[1]), '+inf', 'WITHSCORES', 'LIMIT', count + n - w[2] - 1, 1)
    local d = tonumber(e[2]) + w[1] - now
    if d > wait then wait = d end
  end
end
if wait > 0 then return {0, wait} end
for i = 1, n do redis.call('ZADD', KEYS[1], now, ARGV[5] .. i) end
redis.call('PEXPIRE', KEYS[1], keep + 1000)
return {1, 0, n}
`)

// Reservation is a set of call slots taken in advance for one portal.
type Reservation struct {
	l       *Limiter
	hub     int64
	members []string
	used    int
	mu      sync.Mutex
}

// Reserve takes n call slots for hub if the window has room now. Otherwise
// it returns nil and how long until it will.
func (l *Limiter) Reserve(ctx context.Context, hub int64, n int) (*Reservation, time.Duration, error) {
	prefix := randomHex(8) + ":"
	res, err := reserveScript.Run(ctx, l.rdb, []string{limiterKey(hub), announcedKey(hub)},
		l.clock.Now().UnixMilli(), l.window.Milliseconds(), l.max, n, prefix).Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("rate limiter for portal %d: %w", hub, err)
	}
	if res[0] == 0 {
		return nil, time.Duration(res[1]) * time.Millisecond, nil
	}
	r := &Reservation{l: l, hub: hub}
	for i := 1; i <= int(res[2]); i++ {
		r.members = append(r.members, prefix+strconv.Itoa(i))
	}
	return r, 0, nil
}

// Wait takes one slot for hub, waiting for room if needed.
func (l *Limiter) Wait(ctx context.Context, hub int64) error {
	for {
		r, wait, err := l.Reserve(ctx, hub, 1)
		if err != nil {
			return err
		}
		if r != nil {
			return nil
		}
		if err := l.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Observe records the limit HubSpot announced for a portal, if it changed.
func (l *Limiter) Observe(hub int64, a hubspot.Announced) {
	l.mu.Lock()
	prev, seen := l.announced[hub]
	l.announced[hub] = a
	l.mu.Unlock()
	if seen && prev.Max == a.Max && prev.Interval == a.Interval {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.rdb.HSet(ctx, announcedKey(hub), "max", a.Max, "interval", a.Interval.Milliseconds())
}

// Purge removes a portal's rate-limit state (a deleted portal's).
func (l *Limiter) Purge(ctx context.Context, hub int64) error {
	l.mu.Lock()
	delete(l.announced, hub)
	l.mu.Unlock()
	return l.rdb.Del(ctx, limiterKey(hub), announcedKey(hub)).Err()
}

// Portal returns a hubspot.Limiter for one portal's calls that spends the
// reservation's slots first and then waits for new ones.
func (r *Reservation) Limiter() hubspot.Limiter { return r }

// Wait spends a reserved slot, or waits for a fresh one when all are spent.
func (r *Reservation) Wait(ctx context.Context, hub int64) error {
	r.mu.Lock()
	if r.used < len(r.members) {
		r.used++
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	return r.l.Wait(ctx, hub)
}

// Observe passes announced limits to the limiter.
func (r *Reservation) Observe(hub int64, a hubspot.Announced) { r.l.Observe(hub, a) }

// Release gives back the slots that were not used.
func (r *Reservation) Release(ctx context.Context) {
	r.mu.Lock()
	unused := r.members[r.used:]
	r.members = r.members[:r.used] // returned slots are neither spent nor spendable
	r.mu.Unlock()
	if len(unused) == 0 {
		return
	}
	members := make([]any, len(unused))
	for i, m := range unused {
		members[i] = m
	}
	r.l.rdb.ZRem(context.WithoutCancel(ctx), limiterKey(r.hub), members...)
}

// Used returns how many reserved slots were spent.
func (r *Reservation) Used() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
