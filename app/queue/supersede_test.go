package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

// TestSuperseded: a replayed signup older than a delivered one for its email
// is reported superseded.
func TestSuperseded(t *testing.T) {
	// Each case records outcomes for x@example.com: the old signup fails,
	// a newer one is delivered (in order, or in one Finish call), and a
	// newest one fails; the old and newest are then replayed.
	tests := []struct {
		name   string
		record func(t *testing.T, e *env, old, newer queue.Update)
	}{
		{name: "separate rounds", record: func(t *testing.T, e *env, old, newer queue.Update) {
			require.NoError(t, e.q.Finish(context.Background(), 1001, []queue.Update{old}))
			require.NoError(t, e.q.Finish(context.Background(), 1001, []queue.Update{newer}))
		}},
		{name: "one round, failure first", record: func(t *testing.T, e *env, old, newer queue.Update) {
			require.NoError(t, e.q.Finish(context.Background(), 1001, []queue.Update{old, newer}))
		}},
		{name: "one round, delivery first", record: func(t *testing.T, e *env, old, newer queue.Update) {
			require.NoError(t, e.q.Finish(context.Background(), 1001, []queue.Update{newer, old}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			old := e.enqueue(t, 1001, "src_a", "x@example.com")
			e.clock.Advance(time.Minute)
			newer := e.enqueue(t, 1001, "src_a", "x@example.com")
			e.clock.Advance(time.Minute)
			other := e.enqueue(t, 1001, "src_a", "y@example.com")
			items, err := e.q.Head(ctx, 1001, 3)
			require.NoError(t, err)
			require.Len(t, items, 3)

			old.Status, newer.Status, newer.Outcome = queue.Failed, queue.Delivered, queue.Updated
			tt.record(t, e, queue.Update{StreamID: items[0].StreamID, Event: old},
				queue.Update{StreamID: items[1].StreamID, Event: newer})
			other.Status = queue.Delivered
			require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{StreamID: items[2].StreamID, Event: other}}))

			e.clock.Advance(time.Minute)
			newest := e.enqueue(t, 1001, "src_a", "x@example.com")
			head, err := e.q.Head(ctx, 1001, 1)
			require.NoError(t, err)
			newest.Status = queue.Failed
			require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{StreamID: head[0].StreamID, Event: newest}}))

			n, err := e.q.Replay(ctx, []int64{1001}, "src_a", nil)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			head, err = e.q.Head(ctx, 1001, 10)
			require.NoError(t, err)
			require.Len(t, head, 2)
			replayed := []queue.Event{head[0].Event, head[1].Event}
			for _, ev := range replayed {
				require.Equal(t, 1, ev.Replays)
			}

			sup, err := e.q.Superseded(ctx, 1001, replayed)
			require.NoError(t, err)
			assert.Equal(t, map[string]bool{old.ID: true}, sup,
				"the old signup is superseded by the delivered newer one; the newest is not")

			// An email that never failed is not tracked.
			olderY := other
			olderY.ID, olderY.ReceivedAt = "ev_oldery", t0.Add(-time.Hour)
			sup, err = e.q.Superseded(ctx, 1001, []queue.Event{olderY})
			require.NoError(t, err)
			assert.Empty(t, sup)
		})
	}
}

// TestSameMillisecondIsNotSuperseded: a replayed signup is superseded only
// by a strictly newer delivered one; received in the same millisecond,
// neither is newer and the replay goes out.
func TestSameMillisecondIsNotSuperseded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := e.enqueue(t, 1001, "src_a", "x@example.com")
	same := e.enqueue(t, 1001, "src_a", "x@example.com") // the clock did not move
	old.Status, same.Status = queue.Failed, queue.Delivered
	require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{Event: old}, {Event: same}}))
	_, err := e.q.Replay(ctx, []int64{1001}, "src_a", nil)
	require.NoError(t, err)
	replayed, err := e.q.Event(ctx, 1001, old.ID)
	require.NoError(t, err)
	sup, err := e.q.Superseded(ctx, 1001, []queue.Event{replayed})
	require.NoError(t, err)
	assert.Empty(t, sup)
}
