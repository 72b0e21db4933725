package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestWindowSharedAndPaused: two replicas' windows of one name share max
// calls per period (sliding: any period holds at most max), other names are
// apart, and a pause stops every replica until it ends.
func TestWindowSharedAndPaused(t *testing.T) {
	rdb := redistest.Client(t)
	clock := clocktest.New(time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	ctx := context.Background()
	a := ratelimit.NewWindow(rdb, "rf:acct", 3, time.Minute, clock)
	b := ratelimit.NewWindow(rdb, "rf:acct", 3, time.Minute, clock)
	other := ratelimit.NewWindow(rdb, "rf:other", 3, time.Minute, clock)

	take := func(w *ratelimit.Window) time.Duration {
		d, err := w.Take(ctx)
		require.NoError(t, err)
		return d
	}
	assert.Zero(t, take(a))
	clock.Advance(20 * time.Second)
	assert.Zero(t, take(b))
	assert.Zero(t, take(a))
	assert.Equal(t, 40*time.Second, take(b), "full: room when the first call leaves the window")
	assert.Zero(t, take(other), "another account has its own window")
	clock.Advance(40 * time.Second)
	assert.Zero(t, take(b))
	assert.Equal(t, 20*time.Second, take(a), "sliding: the calls of 20 s ago still count")

	clock.Advance(2 * time.Minute)
	require.NoError(t, a.Pause(ctx, 30*time.Second))
	require.NoError(t, b.Pause(ctx, 10*time.Second)) // never shortens a pause
	assert.Equal(t, 30*time.Second, take(b), "paused for every replica")
	clock.Advance(30 * time.Second)
	assert.Zero(t, take(b))
}
