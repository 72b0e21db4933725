package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

func TestSweepRevivesLanesWhoseSignalWasLost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lose := func(hub int64) {
		t.Helper()
		require.NoError(t, e.rdb.ZRem(ctx, "{lanes}:ready", hub).Err())
	}
	// Many known portals, so the sweep pages through them.
	for hub := int64(5000); hub < 6200; hub++ {
		require.NoError(t, e.q.Register(ctx, hub))
	}
	for _, hub := range []int64{1001, 1002, 1003, 1004, 1005, 5123, 6199} {
		require.NoError(t, e.q.Register(ctx, hub))
	}
	// Lanes due at the same time are claimed in member order, so the leased
	// and parked ones are set up before the others are queued.
	e.enqueue(t, 1003, "src_a", "a@example.com") // leased
	l := e.claim(t, "w1")
	require.Equal(t, int64(1003), l.HubID)
	lose(1003)
	e.enqueue(t, 1004, "src_a", "a@example.com") // parked
	l = e.claim(t, "w1")
	require.Equal(t, int64(1004), l.HubID)
	require.NoError(t, e.q.Park(ctx, l))
	e.enqueue(t, 1001, "src_a", "a@example.com") // ready: fine as it is
	e.enqueue(t, 1002, "src_a", "a@example.com") // signal lost
	lose(1002)
	require.NoError(t, e.q.Signal(ctx, 1005)) // ready, but nothing waiting
	lose(1005)
	e.enqueue(t, 5123, "src_a", "a@example.com") // signal lost
	lose(5123)
	e.enqueue(t, 6199, "src_a", "a@example.com") // signal lost
	lose(6199)
	e.enqueue(t, 7001, "src_a", "a@example.com") // never registered
	lose(7001)

	n, err := e.q.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	r := ready(t, e.rdb)
	for _, hub := range []string{"1001", "1002", "5123", "6199"} {
		assert.Contains(t, r, hub)
	}
	for _, hub := range []string{"1003", "1004", "1005", "7001"} {
		assert.NotContains(t, r, hub)
	}

	n, err = e.q.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to revive")
}

func TestSummary(t *testing.T) {
	// Lag is measured from the lane entry ids, which Redis stamps with its
	// own clock: start the injected clock at the real time.
	start := time.Now().Truncate(time.Millisecond).UTC()
	e := newEnvAt(t, start)
	ctx := context.Background()

	s, err := e.q.Summary(ctx)
	require.NoError(t, err)
	assert.Equal(t, queue.Summary{}, s, "empty")

	for _, hub := range []int64{1001, 1002, 1003, 1004, 1005} { // 1005's lane stays empty
		require.NoError(t, e.q.Register(ctx, hub))
	}
	e.enqueue(t, 1003, "src_a", "a@example.com") // parked
	l := e.claim(t, "w1")
	require.NoError(t, e.q.Park(ctx, l))
	e.enqueue(t, 1004, "src_a", "a@example.com") // backing off
	l = e.claim(t, "w1")
	require.NoError(t, e.q.Requeue(ctx, l, start.Add(time.Hour)))
	for range 3 {
		e.enqueue(t, 1001, "src_a", "a@example.com")
	}
	for range 2 {
		e.enqueue(t, 1002, "src_a", "a@example.com")
	}

	e.clock.Advance(5 * time.Minute)
	s, err = e.q.Summary(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7), s.Depth)
	assert.Equal(t, int64(2), s.Ready)
	assert.Equal(t, int64(1), s.Parked)
	assert.InDelta(t, (5 * time.Minute).Seconds(), s.Lag.Seconds(), 2, "age of the oldest waiting event")

	lag, err := e.q.Lag(ctx, 1002)
	require.NoError(t, err)
	assert.InDelta(t, (5 * time.Minute).Seconds(), lag.Seconds(), 2)
	lag, err = e.q.Lag(ctx, 4242)
	require.NoError(t, err)
	assert.Zero(t, lag, "no lane, no lag")
	n, err := e.q.ReadyLanes(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

func TestParkAndUnpark(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.q.Register(ctx, 1001))
	e.enqueue(t, 1001, "src_a", "ann@example.com")
	l := e.claim(t, "w1")
	require.NoError(t, e.q.Park(ctx, l))

	parked, err := e.q.Parked(ctx, 1001)
	require.NoError(t, err)
	assert.True(t, parked)
	assert.NotContains(t, ready(t, e.rdb), "1001")
	assert.Nil(t, e.claimable(t))
	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, int64(1), depth, "its events stay queued")

	e.clock.Advance(time.Hour)
	n, err := e.q.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the sweeper leaves a parked lane alone")
	assert.Nil(t, e.claimable(t))

	require.NoError(t, e.q.Unpark(ctx, 1001))
	parked, err = e.q.Parked(ctx, 1001)
	require.NoError(t, err)
	assert.False(t, parked)
	got := e.claimable(t)
	require.NotNil(t, got)
	assert.Equal(t, int64(1001), got.HubID)
}

func TestUnparkClearsAHold(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.enqueue(t, 1001, "src_a", "ann@example.com")
	l := e.claim(t, "w1")
	require.NoError(t, e.q.Requeue(ctx, l, e.clock.Now().Add(time.Hour)))
	require.NoError(t, e.q.Unpark(ctx, 1001)) // reconnected: try at once
	got := e.claimable(t)
	require.NotNil(t, got)
	assert.Equal(t, int64(1001), got.HubID)
}
