package queue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

const ttl = 30 * time.Second

func TestClaimGivesEachLaneToOneOfManyClaimers(t *testing.T) {
	tests := []struct {
		name  string
		lanes []int64
	}{
		{name: "one lane", lanes: []int64{1001}},
		{name: "three lanes", lanes: []int64{1001, 1002, 1003}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for _, hub := range tt.lanes {
				e.enqueue(t, hub, "src_a", "ann@example.com")
			}
			var (
				mu     sync.Mutex
				leases []*queue.Lease
				wg     sync.WaitGroup
			)
			for i := range 20 {
				wg.Go(func() {
					l, _, err := e.q.Claim(context.Background(), fmt.Sprintf("w%d", i), ttl)
					assert.NoError(t, err)
					if l != nil {
						mu.Lock()
						leases = append(leases, l)
						mu.Unlock()
					}
				})
			}
			wg.Wait()

			var got []int64
			for _, l := range leases {
				got = append(got, l.HubID)
				assert.WithinDuration(t, t0.Add(ttl), l.Expiry, 0)
			}
			assert.ElementsMatch(t, tt.lanes, got, "every lane leased exactly once")
		})
	}
}

func TestLeaseExpiryHandsTheLaneToAnotherWorker(t *testing.T) {
	tests := []struct {
		name     string
		signal   bool          // new work arrives while the lane is leased
		wantWait time.Duration // what a second worker is told
	}{
		{name: "quiet lane", wantWait: ttl},
		// The lane is due (signalled) but leased: the next worker polls.
		{name: "signalled while leased", signal: true, wantWait: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.enqueue(t, 1001, "src_a", "ann@example.com")
			dead := e.claim(t, "w1")
			if tt.signal {
				e.enqueue(t, 1001, "src_a", "bob@example.com")
			}

			l, wait, err := e.q.Claim(ctx, "w2", ttl)
			require.NoError(t, err)
			assert.Nil(t, l, "a leased lane is not claimable")
			assert.Equal(t, tt.wantWait, wait)

			e.clock.Advance(ttl - time.Millisecond)
			l, _, err = e.q.Claim(ctx, "w2", ttl)
			require.NoError(t, err)
			assert.Nil(t, l, "not a millisecond before the lease expires")

			e.clock.Advance(time.Millisecond)
			l = e.claim(t, "w2")
			assert.Equal(t, int64(1001), l.HubID, "a dead worker's lane comes back by itself")
			assert.Equal(t, "w2", l.Owner)

			// The worker that lost the lease can neither renew nor end it.
			ok, err := e.q.Renew(ctx, dead, ttl)
			require.NoError(t, err)
			assert.False(t, ok)
			require.NoError(t, e.q.Release(ctx, dead))
			require.NoError(t, e.q.Requeue(ctx, dead, e.clock.Now()))
			require.NoError(t, e.q.Park(ctx, dead))
			assert.Nil(t, e.claimable(t), "w2 still holds the lane")
			parked, err := e.q.Parked(ctx, 1001)
			require.NoError(t, err)
			assert.False(t, parked)
			owner, err := e.rdb.HGet(ctx, "{lanes}:lease", "1001").Result()
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("w2|%d", t0.Add(2*ttl).UnixMilli()), owner)
		})
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.enqueue(t, 1001, "src_a", "ann@example.com")
	l := e.claim(t, "w1")

	e.clock.Advance(20 * time.Second)
	ok, err := e.q.Renew(ctx, l, ttl)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.WithinDuration(t, t0.Add(50*time.Second), l.Expiry, 0)

	stranger := &queue.Lease{HubID: 1001, Owner: "w2", Expiry: l.Expiry}
	ok, err = e.q.Renew(ctx, stranger, time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "only the owner renews")
	assert.Equal(t, l.Expiry, stranger.Expiry, "a failed renewal leaves the lease as it was")
	ok, err = e.q.Renew(ctx, &queue.Lease{HubID: 1002, Owner: "w1"}, ttl)
	require.NoError(t, err)
	assert.False(t, ok, "no lease on that lane")

	e.clock.Advance(15 * time.Second) // past the first expiry
	assert.Nil(t, e.claimable(t), "the renewed lease still holds")
	e.clock.Advance(15 * time.Second) // at the renewed expiry
	got := e.claimable(t)
	require.NotNil(t, got)
	assert.Equal(t, int64(1001), got.HubID)
}

func TestReleaseKeepsALaneThatWasSignalledWhileLeased(t *testing.T) {
	tests := []struct {
		name      string
		during    func(t *testing.T, e *env, l *queue.Lease)
		wantReady bool
	}{
		{name: "idle lane leaves the ready set", during: func(*testing.T, *env, *queue.Lease) {}},
		{name: "enqueue while leased", wantReady: true, during: func(t *testing.T, e *env, _ *queue.Lease) {
			e.enqueue(t, 1001, "src_a", "bob@example.com")
		}},
		{name: "signal while leased", wantReady: true, during: func(t *testing.T, e *env, _ *queue.Lease) {
			require.NoError(t, e.q.Signal(context.Background(), 1001))
		}},
		{name: "renewed without a signal", during: func(t *testing.T, e *env, l *queue.Lease) {
			e.clock.Advance(10 * time.Second)
			ok, err := e.q.Renew(context.Background(), l, ttl)
			require.NoError(t, err)
			require.True(t, ok)
		}},
		{name: "enqueue, then renewed", wantReady: true, during: func(t *testing.T, e *env, l *queue.Lease) {
			e.clock.Advance(time.Second)
			e.enqueue(t, 1001, "src_a", "bob@example.com")
			e.clock.Advance(10 * time.Second)
			ok, err := e.q.Renew(context.Background(), l, ttl)
			require.NoError(t, err)
			require.True(t, ok)
		}},
		{name: "another lane signalled", during: func(t *testing.T, e *env, _ *queue.Lease) {
			require.NoError(t, e.q.Signal(context.Background(), 1002))
			l := e.claim(t, "w2")
			require.Equal(t, int64(1002), l.HubID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.enqueue(t, 1001, "src_a", "ann@example.com")
			l := e.claim(t, "w1")
			tt.during(t, e, l)
			require.NoError(t, e.q.Release(ctx, l))

			_, inReady := ready(t, e.rdb)["1001"]
			got := e.claimable(t)
			if tt.wantReady {
				assert.True(t, inReady)
				require.NotNil(t, got, "no lost wakeup")
				assert.Equal(t, int64(1001), got.HubID)
			} else {
				assert.False(t, inReady)
				assert.Nil(t, got)
			}
			lease, err := e.rdb.HGet(ctx, "{lanes}:lease", "1001").Result()
			if got == nil {
				assert.Error(t, err, "the lease is gone: %q", lease)
			}
		})
	}
}

func TestRequeue(t *testing.T) {
	tests := []struct {
		name  string
		due   time.Duration // after now
		poke  func(t *testing.T, e *env)
		ready bool // claimable at once
	}{
		{name: "now", due: 0, ready: true, poke: func(*testing.T, *env) {}},
		{name: "in the past", due: -time.Minute, ready: true, poke: func(*testing.T, *env) {}},
		{name: "later", due: 10 * time.Second, poke: func(*testing.T, *env) {}},
		{name: "later, then signalled", due: 10 * time.Second, poke: func(t *testing.T, e *env) {
			require.NoError(t, e.q.Signal(context.Background(), 1001))
		}},
		{name: "later, then a new event", due: 10 * time.Second, poke: func(t *testing.T, e *env) {
			e.enqueue(t, 1001, "src_a", "bob@example.com")
		}},
		{name: "later, then replayed dead letters", due: 10 * time.Second, poke: func(t *testing.T, e *env) {
			ctx := context.Background()
			ev := e.event(1001, "src_a", "cat@example.com")
			ev.Status = queue.Failed
			require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{Event: *ev}}))
			n, err := e.q.Replay(ctx, []int64{1001}, "src_a", nil)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.enqueue(t, 1001, "src_a", "ann@example.com")
			l := e.claim(t, "w1")
			e.clock.Advance(time.Second)
			due := e.clock.Now().Add(tt.due)
			require.NoError(t, e.q.Requeue(ctx, l, due))
			tt.poke(t, e)

			got, wait, err := e.q.Claim(ctx, "w2", ttl)
			require.NoError(t, err)
			if tt.ready {
				require.NotNil(t, got)
				assert.Equal(t, int64(1001), got.HubID)
				return
			}
			assert.Nil(t, got, "not before due")
			assert.Equal(t, tt.due, wait)

			e.clock.Advance(tt.due - time.Millisecond)
			assert.Nil(t, e.claimable(t), "not even a millisecond before due")
			e.clock.Advance(time.Millisecond)
			got = e.claim(t, "w2")
			assert.Equal(t, int64(1001), got.HubID)

			// The hold ends with the lease it was set for.
			require.NoError(t, e.q.Release(ctx, got))
			n, err := e.rdb.HLen(ctx, "{lanes}:hold").Result()
			require.NoError(t, err)
			assert.Zero(t, n)
			require.NoError(t, e.q.Signal(ctx, 1001))
			assert.NotNil(t, e.claimable(t), "a signal after the hold makes it due at once")
		})
	}
}

func TestLanesAreClaimedInDueOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Hub ids out of order, so the order cannot come from the member names.
	for _, hub := range []int64{1003, 1001, 1002} {
		e.enqueue(t, hub, "src_a", "ann@example.com")
		e.clock.Advance(time.Millisecond)
	}
	// More work for a waiting lane does not cost it its place.
	e.enqueue(t, 1001, "src_a", "bob@example.com")
	assert.Equal(t, t0.Add(time.Millisecond), ready(t, e.rdb)["1001"])

	first := e.claim(t, "w1")
	require.Equal(t, int64(1003), first.HubID)
	require.NoError(t, e.q.Requeue(ctx, first, e.clock.Now())) // a full batch: more to do

	var got []int64
	for range 3 {
		l := e.claim(t, "w1")
		got = append(got, l.HubID)
		e.clock.Advance(time.Millisecond)
	}
	assert.Equal(t, []int64{1001, 1002, 1003}, got, "a lane requeued now goes behind the lanes already waiting")
}

func TestClaimWait(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		want  time.Duration
	}{
		{name: "nothing scheduled", want: 0, setup: func(*testing.T, *env) {}},
		{name: "a leased lane", want: ttl, setup: func(t *testing.T, e *env) {
			e.enqueue(t, 1001, "src_a", "ann@example.com")
			e.claim(t, "w1")
		}},
		{name: "the nearest of several held lanes", want: 7 * time.Second, setup: func(t *testing.T, e *env) {
			for hub, in := range map[int64]time.Duration{1001: 20 * time.Second, 1002: 7 * time.Second, 1003: time.Minute} {
				e.enqueue(t, hub, "src_a", "ann@example.com")
				l := e.claim(t, "w1")
				require.NoError(t, e.q.Requeue(context.Background(), l, e.clock.Now().Add(in)))
			}
		}},
		{name: "an idle lane is not scheduled", want: 0, setup: func(t *testing.T, e *env) {
			e.enqueue(t, 1001, "src_a", "ann@example.com")
			require.NoError(t, e.q.Release(context.Background(), e.claim(t, "w1")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(t, e)
			l, wait, err := e.q.Claim(context.Background(), "w9", ttl)
			require.NoError(t, err)
			assert.Nil(t, l)
			assert.Equal(t, tt.want, wait)
		})
	}
}
