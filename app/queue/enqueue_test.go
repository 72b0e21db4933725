package queue_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

func TestEnqueueStoresQueuesIndexesCountsAndSignals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ev := e.event(1001, "src_a", "ann@example.com")

	id, dup, err := e.q.Enqueue(ctx, ev, "hash-1")
	require.NoError(t, err)
	assert.False(t, dup)
	assert.Equal(t, ev.ID, id)

	stored, err := e.q.Event(ctx, 1001, id)
	require.NoError(t, err)
	assert.Equal(t, *ev, stored, "the record is stored as given")

	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(1), depth)
	head, err := e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	require.Len(t, head, 1)
	assert.Equal(t, *ev, head[0].Event)
	assert.False(t, head[0].Missing)

	act, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids(act), "indexed in the source's activity")
	act, err = e.q.Activity(ctx, []int64{1001}, "src_b", queue.Filter{})
	require.NoError(t, err)
	assert.Empty(t, act, "not in another source's activity")

	total, err := e.q.Stats(ctx, 1001, "", t0)
	require.NoError(t, err)
	assert.Equal(t, queue.DayStats{Received: 1}, total)
	perSource, err := e.q.Stats(ctx, 1001, "src_a", t0)
	require.NoError(t, err)
	assert.Equal(t, queue.DayStats{Received: 1}, perSource)
	other, err := e.q.Stats(ctx, 1001, "src_b", t0)
	require.NoError(t, err)
	assert.Equal(t, queue.DayStats{}, other)
	ttl, err := e.rdb.PTTL(ctx, "{p:1001}:stats:20260310").Result()
	require.NoError(t, err)
	assert.InDelta(t, (35 * 24 * time.Hour).Seconds(), ttl.Seconds(), 5, "daily counters expire after 35 days")

	assert.Equal(t, map[string]time.Time{"1001": t0}, ready(t, e.rdb), "the lane is signalled due now")
	l := e.claim(t, "w1")
	assert.Equal(t, int64(1001), l.HubID)
}

func TestEnqueueDedupe(t *testing.T) {
	tests := []struct {
		name          string
		src, hash     string
		wantDuplicate bool
	}{
		{name: "same source and body within the window", src: "src_a", hash: "hash-1", wantDuplicate: true},
		{name: "same body from another source", src: "src_b", hash: "hash-1"},
		{name: "another body from the same source", src: "src_a", hash: "hash-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			first := e.event(1001, "src_a", "ann@example.com")
			firstID, dup, err := e.q.Enqueue(ctx, first, "hash-1")
			require.NoError(t, err)
			require.False(t, dup)

			e.clock.Advance(23 * time.Hour)
			second := e.event(1001, tt.src, "ann@example.com")
			id, dup, err := e.q.Enqueue(ctx, second, tt.hash)
			require.NoError(t, err)

			assert.Equal(t, tt.wantDuplicate, dup)
			depth, err := e.q.Depth(ctx, 1001)
			require.NoError(t, err)
			stats, err := e.q.Stats(ctx, 1001, "", t0)
			require.NoError(t, err)
			_, secondErr := e.q.Event(ctx, 1001, second.ID)
			if tt.wantDuplicate {
				assert.Equal(t, firstID, id, "the first event's id is returned")
				assert.Equal(t, int64(1), depth, "nothing new is queued")
				assert.Equal(t, int64(1), stats.Received)
				assert.ErrorIs(t, secondErr, tenants.ErrNotFound, "the repeat is not stored")
				later, err := e.q.Stats(ctx, 1001, "", e.clock.Now())
				require.NoError(t, err)
				assert.Zero(t, later.Received, "nor counted")
			} else {
				assert.Equal(t, second.ID, id)
				assert.Equal(t, int64(2), depth)
				assert.NoError(t, secondErr)
			}
		})
	}
}

func TestConcurrentRepeatsAreQueuedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh []string
		got   = map[string]int{}
	)
	for range 20 {
		wg.Go(func() {
			ev := e.event(1001, "src_a", "ann@example.com")
			id, dup, err := e.q.Enqueue(ctx, ev, "hash-1")
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			got[id]++
			if !dup {
				fresh = append(fresh, id)
			}
		})
	}
	wg.Wait()
	require.Len(t, fresh, 1, "one request wins")
	assert.Equal(t, map[string]int{fresh[0]: 20}, got, "every repeat is told the winner's id")
	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(1), depth)
}

func TestEnqueueDedupeWindowEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.event(1001, "src_a", "ann@example.com")
	_, _, err := e.q.Enqueue(ctx, first, "hash-1")
	require.NoError(t, err)

	// The window is the marker's expiry in Redis (PX), on Redis's clock:
	// what Redis reports is compared with 24 hours written out here, not
	// with the constant under test.
	seen := "{p:1001}:seen:src_a:hash-1"
	ttl, err := e.rdb.PTTL(ctx, seen).Result()
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 5, "the duplicate window is 24 hours")
	marker, err := e.rdb.Get(ctx, seen).Result()
	require.NoError(t, err)
	assert.Equal(t, first.ID, marker)

	// The window passes: Redis expires the marker (an expiry time in the
	// past removes it at once; the injected clock plays no part).
	require.NoError(t, e.rdb.PExpireAt(ctx, seen, time.Unix(1, 0)).Err())

	again := e.event(1001, "src_a", "ann@example.com")
	id, dup, err := e.q.Enqueue(ctx, again, "hash-1")
	require.NoError(t, err)
	assert.False(t, dup, "a repeat after the window is a new signup")
	assert.Equal(t, again.ID, id)
	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(2), depth)
	marker, err = e.rdb.Get(ctx, seen).Result()
	require.NoError(t, err)
	assert.Equal(t, again.ID, marker, "the window starts again from the new signup")
}

func TestEnqueueLoadsItsScriptAfterAFlush(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.rdb.ScriptFlush(ctx).Err())
	ev := e.event(1001, "src_a", "ann@example.com")
	id, dup, err := e.q.Enqueue(ctx, ev, "hash-1")
	require.NoError(t, err)
	assert.False(t, dup)
	assert.Equal(t, ev.ID, id)
	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(1), depth, "queued once, not twice")
}

func TestRecordRejectedIsInActivityButNotQueued(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ev := e.event(1001, "src_a", "")
	ev.Status, ev.Reason, ev.Code = queue.Rejected, "the signup has no email", "Unprocessable Entity"
	require.NoError(t, e.q.RecordRejected(ctx, ev))

	act, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{})
	require.NoError(t, err)
	require.Len(t, act, 1)
	assert.Equal(t, *ev, act[0])
	rejected, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Status: queue.Rejected})
	require.NoError(t, err)
	assert.Equal(t, []string{ev.ID}, ids(rejected))

	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Zero(t, depth)
	assert.Empty(t, ready(t, e.rdb), "nothing to deliver, so no signal")
	stats, err := e.q.Stats(ctx, 1001, "src_a", t0)
	require.NoError(t, err)
	assert.Equal(t, queue.DayStats{Rejected: 1}, stats)
	total, err := e.q.Stats(ctx, 1001, "", t0)
	require.NoError(t, err)
	assert.Equal(t, queue.DayStats{Rejected: 1}, total)
}

func TestEventNotFound(t *testing.T) {
	e := newEnv(t)
	_, err := e.q.Event(context.Background(), 1001, "ev_missing")
	assert.ErrorIs(t, err, tenants.ErrNotFound)
}

func TestNewEventIDIsTimeOrderedAndUnique(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := range 200 {
		id := queue.NewEventID(t0.Add(time.Duration(i) * time.Millisecond))
		assert.Len(t, id, 29)
		assert.False(t, seen[id], "duplicate id %s", id)
		assert.Greater(t, id, prev, "ids sort by time")
		seen[id], prev = true, id
	}
	a, b := queue.NewEventID(t0), queue.NewEventID(t0)
	assert.NotEqual(t, a, b, "same millisecond, different ids")
}

// TestConcurrentSignupsShareRoundTrips: signups arriving while a round trip
// to Redis is in flight go together in the next one (group commit), one
// script call per portal, and each caller is told its own event's id.
// Redis holds writes for a moment so that they do pile up.
func TestConcurrentSignupsShareRoundTrips(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 40
	events := make([]*queue.Event, n)
	for i := range events {
		events[i] = e.event(1001+int64(i%2), "src_a", fmt.Sprintf("u%d@example.com", i))
	}
	type result struct {
		id  string
		dup bool
		err error
	}
	results := make([]result, n)
	require.NoError(t, e.rdb.ConfigResetStat(ctx).Err())
	require.NoError(t, e.rdb.Do(ctx, "CLIENT", "PAUSE", 300, "WRITE").Err())
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() {
			r := &results[i]
			r.id, r.dup, r.err = e.q.Enqueue(ctx, events[i], "h-"+events[i].ID)
		})
	}
	wg.Wait()
	for i, r := range results {
		require.NoError(t, r.err, "signup %d", i)
		assert.False(t, r.dup)
		assert.Equal(t, events[i].ID, r.id, "signup %d is told its own id", i)
	}
	for _, hub := range []int64{1001, 1002} {
		depth, err := e.q.Depth(ctx, hub)
		require.NoError(t, err)
		assert.Equal(t, int64(n/2), depth)
	}
	stats, err := e.rdb.Info(ctx, "commandstats").Result()
	require.NoError(t, err)
	m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+)`).FindStringSubmatch(stats)
	require.NotNil(t, m, stats)
	calls, _ := strconv.Atoi(m[1])
	t.Logf("%d signups for 2 portals in %d script calls", n, calls)
	assert.LessOrEqual(t, calls, 6, "signups that waited share round trips")
}
