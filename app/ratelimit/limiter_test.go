package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
)

// replica returns a second client on the same database, as another refhub
// process would have.
func replica(t *testing.T, rdb *redis.Client) *redis.Client {
	t.Helper()
	c := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func slots(t *testing.T, rdb *redis.Client, hub string) int64 {
	t.Helper()
	n, err := rdb.ZCard(context.Background(), "{p:"+hub+"}:rl").Result()
	require.NoError(t, err)
	return n
}

func TestLimiterAllowsAtMostMaxPerWindowAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	limiters := []*ratelimit.Limiter{
		ratelimit.New(e.rdb, 10, 10*time.Second, e.clock),
		ratelimit.New(replica(t, e.rdb), 10, 10*time.Second, e.clock),
	}
	burst := func() (granted int64, waits []time.Duration) {
		t.Helper()
		var (
			wg sync.WaitGroup
			n  atomic.Int64
			mu sync.Mutex
		)
		for i := range 40 {
			wg.Go(func() {
				r, wait, err := limiters[i%2].Reserve(ctx, 1001, 1)
				assert.NoError(t, err)
				if r != nil {
					n.Add(1)
					return
				}
				mu.Lock()
				waits = append(waits, wait)
				mu.Unlock()
			})
		}
		wg.Wait()
		return n.Load(), waits
	}

	granted, waits := burst()
	assert.Equal(t, int64(10), granted)
	require.Len(t, waits, 30)
	for _, w := range waits {
		assert.Equal(t, 10*time.Second, w, "until the first slots leave the window")
	}

	e.clock.Advance(10*time.Second - time.Millisecond)
	r, wait, err := limiters[1].Reserve(ctx, 1001, 1)
	require.NoError(t, err)
	assert.Nil(t, r)
	assert.Equal(t, time.Millisecond, wait)

	e.clock.Advance(time.Millisecond)
	granted, _ = burst()
	assert.Equal(t, int64(10), granted, "a full window later")
	assert.Equal(t, int64(10), slots(t, e.rdb, "1001"))

	r, _, err = limiters[0].Reserve(ctx, 1002, 10)
	require.NoError(t, err)
	assert.NotNil(t, r, "each portal has its own window")
}

func TestLimiterWaitIsExact(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want time.Duration
	}{
		{name: "one slot: the oldest leaves", n: 1, want: 4 * time.Second},
		{name: "two slots: the second oldest leaves", n: 2, want: 6 * time.Second},
		{name: "all slots", n: 3, want: 9 * time.Second},
		{name: "more than the limit is clamped", n: 5, want: 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			l := ratelimit.New(e.rdb, 3, 10*time.Second, e.clock)
			for _, at := range []time.Duration{0, 2 * time.Second, 5 * time.Second} {
				e.clock.Advance(at - e.clock.Now().Sub(t0))
				r, _, err := l.Reserve(ctx, 1001, 1)
				require.NoError(t, err)
				require.NotNil(t, r)
			}
			e.clock.Advance(time.Second) // t0+6s

			r, wait, err := l.Reserve(ctx, 1001, tt.n)
			require.NoError(t, err)
			assert.Nil(t, r)
			assert.Equal(t, tt.want, wait)

			e.clock.Advance(wait - time.Millisecond)
			r, wait, err = l.Reserve(ctx, 1001, tt.n)
			require.NoError(t, err)
			assert.Nil(t, r, "not a millisecond early")
			assert.Equal(t, time.Millisecond, wait)

			e.clock.Advance(wait)
			r, _, err = l.Reserve(ctx, 1001, tt.n)
			require.NoError(t, err)
			assert.NotNil(t, r, "room exactly when the wait is over")
		})
	}
}

func TestReserveIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 3, 10*time.Second, e.clock)
	r, _, err := l.Reserve(ctx, 1001, 2)
	require.NoError(t, err)
	require.NotNil(t, r)

	r, wait, err := l.Reserve(ctx, 1001, 2)
	require.NoError(t, err)
	assert.Nil(t, r)
	assert.Equal(t, 10*time.Second, wait)
	assert.Equal(t, int64(2), slots(t, e.rdb, "1001"), "nothing taken")

	r, _, err = l.Reserve(ctx, 1001, 1)
	require.NoError(t, err)
	assert.NotNil(t, r, "the one free slot is still there")
}

func TestReserveClampsToTheLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 3, 10*time.Second, e.clock)
	r, _, err := l.Reserve(ctx, 1001, 5)
	require.NoError(t, err)
	require.NotNil(t, r, "a batch that needs more calls than the limit still starts")
	assert.Equal(t, int64(3), slots(t, e.rdb, "1001"))

	for range 3 {
		require.NoError(t, r.Wait(ctx, 1001), "reserved slots are spent without waiting")
	}
	assert.Equal(t, 3, r.Used())
	assert.Equal(t, t0, e.clock.Now(), "no time passed")
	require.NoError(t, r.Limiter().Wait(ctx, 1001))
	assert.Equal(t, t0.Add(10*time.Second), e.clock.Now(), "then it waits for the window like any call")
	assert.Equal(t, int64(1), slots(t, e.rdb, "1001"), "the reserved slots left the window, the new one is in it")
}

func TestReservationReleaseReturnsUnusedSlots(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 3, 10*time.Second, e.clock)
	r, _, err := l.Reserve(ctx, 1001, 3)
	require.NoError(t, err)
	require.NotNil(t, r)
	require.NoError(t, r.Wait(ctx, 1001))

	r.Release(ctx)
	assert.Equal(t, 1, r.Used(), "one slot was spent")
	assert.Equal(t, int64(1), slots(t, e.rdb, "1001"))
	r.Release(ctx)
	assert.Equal(t, int64(1), slots(t, e.rdb, "1001"), "releasing again changes nothing")

	other, _, err := l.Reserve(ctx, 1001, 2)
	require.NoError(t, err)
	require.NotNil(t, other, "the returned slots are free again")
	none, _, err := l.Reserve(ctx, 1001, 1)
	require.NoError(t, err)
	assert.Nil(t, none)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	other.Release(cctx) // a cancelled caller still returns its slots
	assert.Equal(t, int64(1), slots(t, e.rdb, "1001"))
}

func TestLimiterWaitBlocksUntilASlotIsFree(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const window = 3 * time.Second
	l := ratelimit.New(e.rdb, 2, window, e.clock)
	r, _, err := l.Reserve(ctx, 1001, 2)
	require.NoError(t, err)
	require.NotNil(t, r)
	e.clock.Advance(time.Second)

	require.NoError(t, l.Wait(ctx, 1001))
	assert.Equal(t, t0.Add(window), e.clock.Now(), "it waited exactly until the first slot left the window")

	// The window is full again: a caller that gives up is told so.
	r, _, err = l.Reserve(ctx, 1001, 1)
	require.NoError(t, err)
	require.NotNil(t, r)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, l.Wait(cctx, 1001), context.Canceled)
}

func TestSystemClockSleeps(t *testing.T) {
	var c ratelimit.SystemClock
	start := time.Now()
	require.NoError(t, c.Sleep(context.Background(), 30*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.WithinDuration(t, time.Now(), c.Now(), time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	assert.ErrorIs(t, c.Sleep(ctx, time.Minute), context.Canceled)
	assert.Less(t, time.Since(start), time.Second, "a cancelled wait ends at once")
}

func TestLimiterFollowsAnnouncedLimits(t *testing.T) {
	tests := []struct {
		name       string
		max        int
		window     time.Duration
		announced  hubspot.Announced
		byReplica  bool // announced to another process
		wantMax    int
		wantWindow time.Duration
	}{
		{name: "lower limit and longer window", max: 100, window: time.Second,
			announced: hubspot.Announced{Max: 22, Remaining: 21, Interval: 2 * time.Second}, wantMax: 20, wantWindow: 2 * time.Second},
		{name: "lower limit, same window", max: 100, window: 10 * time.Second,
			announced: hubspot.Announced{Max: 55, Interval: 10 * time.Second}, wantMax: 50, wantWindow: 10 * time.Second},
		{name: "seen by another replica", max: 100, window: time.Second, byReplica: true,
			announced: hubspot.Announced{Max: 22, Interval: 2 * time.Second}, wantMax: 20, wantWindow: 2 * time.Second},
		{name: "a higher limit does not raise it", max: 10, window: time.Second,
			announced: hubspot.Announced{Max: 1000, Interval: time.Second}, wantMax: 10, wantWindow: time.Second},
		{name: "a shorter window does not shorten it", max: 10, window: 10 * time.Second,
			announced: hubspot.Announced{Max: 110, Interval: time.Second}, wantMax: 10, wantWindow: 10 * time.Second},
		{name: "a lower limit over a shorter window is followed in that window", max: 100, window: 10 * time.Second,
			announced: hubspot.Announced{Max: 11, Interval: 2 * time.Second}, wantMax: 10, wantWindow: 2 * time.Second},
		{name: "at least one call", max: 10, window: time.Second,
			announced: hubspot.Announced{Max: 1, Interval: time.Second}, wantMax: 1, wantWindow: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			l := ratelimit.New(e.rdb, tt.max, tt.window, e.clock)
			observer := l
			if tt.byReplica {
				observer = ratelimit.New(replica(t, e.rdb), tt.max, tt.window, e.clock)
			}
			observer.Observe(1001, tt.announced)

			granted := 0
			var wait time.Duration
			for range 200 {
				r, w, err := l.Reserve(ctx, 1001, 1)
				require.NoError(t, err)
				if r == nil {
					wait = w
					break
				}
				granted++
			}
			assert.Equal(t, tt.wantMax, granted)
			assert.Equal(t, tt.wantWindow, wait)

			e.clock.Advance(tt.wantWindow - time.Millisecond)
			r, _, err := l.Reserve(ctx, 1001, 1)
			require.NoError(t, err)
			assert.Nil(t, r, "the window in force is %s", tt.wantWindow)
			e.clock.Advance(time.Millisecond)
			r, _, err = l.Reserve(ctx, 1001, tt.wantMax)
			require.NoError(t, err)
			assert.NotNil(t, r)

			r, _, err = l.Reserve(ctx, 1002, tt.max)
			require.NoError(t, err)
			assert.NotNil(t, r, "another portal keeps the configured limit")
		})
	}
}

func TestObserveWritesOnlyChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 100, 10*time.Second, e.clock)
	stored := func(hub string) map[string]string {
		t.Helper()
		m, err := e.rdb.HGetAll(ctx, "{p:"+hub+"}:rlmax").Result()
		require.NoError(t, err)
		return m
	}
	forget := func() {
		t.Helper()
		require.NoError(t, e.rdb.Del(ctx, "{p:1001}:rlmax").Err())
	}

	l.Observe(1001, hubspot.Announced{Max: 22, Remaining: 21, Interval: 2 * time.Second})
	assert.Equal(t, map[string]string{"max": "22", "interval": "2000"}, stored("1001"))

	tests := []struct {
		name      string
		announced hubspot.Announced
		want      map[string]string // nil: not written
	}{
		{name: "same announcement", announced: hubspot.Announced{Max: 22, Remaining: 21, Interval: 2 * time.Second}},
		{name: "only the remaining count moved", announced: hubspot.Announced{Max: 22, Remaining: 3, Interval: 2 * time.Second}},
		{name: "new maximum", announced: hubspot.Announced{Max: 30, Remaining: 3, Interval: 2 * time.Second},
			want: map[string]string{"max": "30", "interval": "2000"}},
		{name: "new interval", announced: hubspot.Announced{Max: 30, Remaining: 3, Interval: 3 * time.Second},
			want: map[string]string{"max": "30", "interval": "3000"}},
		{name: "unchanged again", announced: hubspot.Announced{Max: 30, Remaining: 29, Interval: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forget()
			l.Observe(1001, tt.announced)
			if tt.want == nil {
				assert.Empty(t, stored("1001"), "not written")
				return
			}
			assert.Equal(t, tt.want, stored("1001"))
		})
	}

	l.Observe(1002, hubspot.Announced{Max: 30, Interval: 3 * time.Second})
	assert.Equal(t, map[string]string{"max": "30", "interval": "3000"}, stored("1002"), "per portal")
}

// TestLimiterRespectsBothWindows: with refhub's 100 per 10 s and HubSpot
// announcing 11 per 2 s, calls go out at 10 per 2 s and never more than
// 100 in any 10 s.
func TestLimiterRespectsBothWindows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := ratelimit.New(e.rdb, 25, 10*time.Second, e.clock)
	l.Observe(7, hubspot.Announced{Max: 11, Interval: 2 * time.Second})
	granted := map[int]int{} // per second
	for ms := 0; ms < 20000; ms += 100 {
		if r, _, err := l.Reserve(ctx, 7, 1); err == nil && r != nil {
			granted[ms/1000]++
		}
		e.clock.Advance(100 * time.Millisecond)
	}
	in := func(from, to int) int {
		n := 0
		for s := from; s < to; s++ {
			n += granted[s]
		}
		return n
	}
	for s := 0; s+2 <= 20; s++ {
		assert.LessOrEqual(t, in(s, s+2), 10, "at most 10 in any 2 s from second %d", s)
	}
	for s := 0; s+10 <= 20; s++ {
		assert.LessOrEqual(t, in(s, s+10), 25, "at most 25 in any 10 s from second %d", s)
	}
	assert.Equal(t, 25, in(0, 10), "the 10 s budget is used up, at 10 per 2 s")
}
