package queue_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

// pipelines counts the pipelines a client sends.
type pipelines struct{ n atomic.Int64 }

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestConcurrentEnqueuesShareRoundTrips: concurrent calls for several
// portals and sources, each body sent twice, are stored as one-by-one calls
// would store them (each body once, the repeat told the first's id), in
// fewer round trips than calls.
func TestConcurrentEnqueuesShareRoundTrips(t *testing.T) {
	e := newEnv(t)
	trips := &pipelines{}
	e.rdb.AddHook(trips)
	ctx := context.Background()
	const n, bodies = 300, 150 // call i and i+150 send the same body to the same portal and source
	type result struct {
		id  string
		dup bool
		ev  *queue.Event
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ev := e.event(int64(1001+i%3), []string{"src_a", "src_b"}[i%2], fmt.Sprintf("p%d@example.com", i%bodies))
			id, dup, err := e.q.Enqueue(ctx, ev, fmt.Sprintf("h-%d", i%bodies))
			assert.NoError(t, err)
			results[i] = result{id: id, dup: dup, ev: ev}
		})
	}
	wg.Wait()

	fresh := map[int64]map[string]bool{}
	for i := range bodies {
		a, b := results[i], results[i+bodies]
		require.NotEqual(t, a.dup, b.dup, "body %d: exactly one of the two is new", i)
		first := a
		if a.dup {
			first = b
		}
		assert.Equal(t, first.ev.ID, a.id, "body %d", i)
		assert.Equal(t, first.ev.ID, b.id, "body %d: the repeat is told the first id", i)
		if fresh[first.ev.HubID] == nil {
			fresh[first.ev.HubID] = map[string]bool{}
		}
		fresh[first.ev.HubID][first.ev.ID] = true
	}
	for hub, want := range fresh {
		head, err := e.q.Head(ctx, hub, 1000)
		require.NoError(t, err)
		got := map[string]bool{}
		for _, it := range head {
			assert.False(t, got[it.Event.ID], "queued once")
			got[it.Event.ID] = true
		}
		assert.Equal(t, want, got, "portal %d: every new event queued, no repeat", hub)
		stats, err := e.q.Stats(ctx, hub, "", t0)
		require.NoError(t, err)
		assert.Equal(t, int64(len(want)), stats.Received)
		a, err := e.q.Stats(ctx, hub, "src_a", t0)
		require.NoError(t, err)
		b, err := e.q.Stats(ctx, hub, "src_b", t0)
		require.NoError(t, err)
		assert.Equal(t, stats.Received, a.Received+b.Received, "per-source counters add up")
	}
	assert.Less(t, trips.n.Load(), int64(n), "calls shared round trips")
	t.Logf("%d enqueues in %d round trips", n, trips.n.Load())
}
