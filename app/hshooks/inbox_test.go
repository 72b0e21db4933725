package hshooks_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// counter counts what it handled per event id; fail makes the next calls
// fail, crash makes the next call end its goroutine as a dying process
// would (nothing after it runs).
type counter struct {
	mu      sync.Mutex
	handled map[int64]int
	fail    atomic.Int32
	crash   atomic.Bool
}

func (c *counter) HandleHubSpotEvent(_ context.Context, ev hshooks.Event) error {
	if c.crash.CompareAndSwap(true, false) {
		runtime.Goexit()
	}
	if c.fail.Add(-1) >= 0 {
		return errors.New("not now")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handled[ev.EventID]++
	return nil
}

func (c *counter) count(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handled[id]
}

func newInbox(rdb redis.UniversalClient, name string, h hshooks.Handler) *hshooks.Inbox {
	in := hshooks.NewInbox(rdb, name, []hshooks.Handler{h}, hshooks.NewMetrics(prometheus.NewRegistry()), slog.Default())
	in.MinIdle, in.BusyFor = 300*time.Millisecond, 100*time.Millisecond
	return in
}

func events(ids ...int64) []hshooks.Event {
	out := make([]hshooks.Event, len(ids))
	for i, id := range ids {
		out[i] = hshooks.Event{EventID: id, PortalID: 1001, SubscriptionType: "object.propertyChange", ObjectTypeID: "0-1"}
	}
	return out
}

func TestCopiesOnTwoReplicasAreHandledOnce(t *testing.T) {
	ctx := context.Background()
	c := &counter{handled: map[int64]int{}}
	rdb := redistest.Client(t)
	a, b := newInbox(rdb, "a", c), newInbox(rdb, "b", c)
	for range 3 {
		require.NoError(t, a.Store(ctx, events(1, 2)))
		require.NoError(t, b.Store(ctx, events(2, 3)))
	}
	var wg sync.WaitGroup
	for _, in := range []*hshooks.Inbox{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := in.Drain(ctx); assert.NoError(t, err) }()
	}
	wg.Wait()
	// A copy met while another replica was handling it waits for MinIdle.
	require.Eventually(t, func() bool {
		_, _ = a.Drain(ctx)
		n, _ := a.Pending(ctx)
		return n == 0
	}, 5*time.Second, 50*time.Millisecond)
	for _, id := range []int64{1, 2, 3} {
		assert.Equal(t, 1, c.count(id), "event %d", id)
	}
}

func TestFailedEventsAreHandledAgainLater(t *testing.T) {
	ctx := context.Background()
	c := &counter{handled: map[int64]int{}}
	in := newInbox(redistest.Client(t), "a", c)
	c.fail.Store(1)
	require.NoError(t, in.Store(ctx, events(7, 8)))
	_, err := in.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, c.count(7), "the first attempt failed")
	assert.Equal(t, 1, c.count(8), "the other event of the batch is handled")
	n, _ := in.Pending(ctx)
	assert.Equal(t, int64(1), n, "the batch stays stored")
	require.Eventually(t, func() bool { _, _ = in.Drain(ctx); return c.count(7) == 1 }, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1, c.count(8), "not handled twice")
	n, _ = in.Pending(ctx)
	assert.Zero(t, n)
}

func TestBatchOfADeadReplicaIsTakenOver(t *testing.T) {
	ctx := context.Background()
	c := &counter{handled: map[int64]int{}}
	rdb := redistest.Client(t)
	a, b := newInbox(rdb, "a", c), newInbox(rdb, "b", c)
	require.NoError(t, a.Store(ctx, events(42)))
	c.crash.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = a.Drain(ctx) }() // dies holding the batch and the event
	<-done
	n, err := b.Drain(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not taken over before MinIdle")
	require.Eventually(t, func() bool { _, _ = b.Drain(ctx); return c.count(42) == 1 }, 5*time.Second, 50*time.Millisecond)
	left, _ := b.Pending(ctx)
	assert.Zero(t, left)
}
