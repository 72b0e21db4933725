package queue_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// TestTrimKeepsWhatIsNotFinished: old delivered, not sent and refused events
// leave the activity after the retention period; queued events and dead letters stay
// however old they are, and newer events stay.
func TestTrimKeepsWhatIsNotFinished(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.q.Register(ctx, 7))
	old := map[string]queue.Status{}
	var updates []queue.Update
	items := func() []queue.Item {
		it, err := e.q.Head(ctx, 7, 100)
		require.NoError(t, err)
		return it
	}
	for i, want := range []queue.Status{queue.Delivered, queue.Failed, queue.Queued, queue.Delivered, queue.NotSent} {
		ev := e.enqueue(t, 7, "src1", "old"+string(rune('a'+i))+"@example.com")
		old[ev.ID] = want
	}
	for _, it := range items() {
		ev := it.Event
		ev.Status = old[ev.ID]
		updates = append(updates, queue.Update{StreamID: it.StreamID, Event: ev})
	}
	require.NoError(t, e.q.Finish(ctx, 7, updates))
	rejected := e.event(7, "src1", "")
	rejected.Status = queue.Rejected
	require.NoError(t, e.q.RecordRejected(ctx, rejected))
	old[rejected.ID] = queue.Rejected

	e.clock.Advance(40 * 24 * time.Hour)
	fresh := e.enqueue(t, 7, "src1", "new@example.com")

	n, err := e.q.Trim(ctx, e.clock.Now().Add(-30*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 4, n, "two delivered, one not sent and one refused event were old enough")
	evs, err := e.q.Activity(ctx, []int64{7}, "src1", queue.Filter{Limit: 100})
	require.NoError(t, err)
	left := map[string]bool{}
	for _, ev := range evs {
		left[ev.ID] = true
	}
	for id, st := range old {
		keep := st == queue.Failed || st == queue.Queued
		assert.Equal(t, keep, left[id], "an old %s event kept: %v", st, keep)
	}
	assert.True(t, left[fresh.ID])
	dead, _, err := e.q.DeadLetters(ctx, []int64{7}, "src1", queue.DeadPage{})
	require.NoError(t, err)
	assert.Len(t, dead, 1, "dead letters are never trimmed")

	n, err = e.q.Trim(ctx, e.clock.Now().Add(-30*24*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "trimming again removes nothing more")
}

// TestTrimEveryPortal: one trim covers every portal's activity.
func TestTrimEveryPortal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, hub := range []int64{7, 8, 9} {
		require.NoError(t, e.q.Register(ctx, hub))
		ev := e.enqueue(t, hub, "src1", "old@example.com")
		ev.Status = queue.Delivered
		require.NoError(t, e.q.Finish(ctx, hub, []queue.Update{{Event: ev}}))
	}
	e.clock.Advance(40 * 24 * time.Hour)
	n, err := e.q.Trim(ctx, e.clock.Now().Add(-30*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "one old delivered event on each of three portals")
}

// TestTrimWorksThroughManyEvents: a trim goes through more old events than
// one step takes (500), skipping those that stay, and drops activity
// entries whose event record is already gone, even a step of nothing but
// those.
func TestTrimWorksThroughManyEvents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.q.Register(ctx, 7))
	finish := func(src string, n int, status func(i int) queue.Status) []queue.Event {
		var evs []queue.Event
		var updates []queue.Update
		for i := range n {
			ev := e.enqueue(t, 7, src, "u"+strconv.Itoa(i)+"@example.com")
			ev.Status = status(i)
			evs = append(evs, ev)
			updates = append(updates, queue.Update{Event: ev})
		}
		for len(updates) > 0 {
			k := min(len(updates), 100)
			require.NoError(t, e.q.Finish(ctx, 7, updates[:k]))
			updates = updates[k:]
		}
		return evs
	}
	many := finish("src1", 1200, func(i int) queue.Status {
		if i%3 == 0 {
			return queue.Failed // a dead letter: stays
		}
		return queue.Delivered
	})
	var gone []string // delivered events whose record went already
	for i := 1; len(gone) < 30; i += 3 {
		gone = append(gone, many[i].ID)
	}
	for _, ev := range finish("src2", 5, func(int) queue.Status { return queue.Delivered }) {
		gone = append(gone, ev.ID)
	}
	for _, ev := range finish("src3", 4, func(int) queue.Status { return queue.Delivered })[:2] {
		gone = append(gone, ev.ID) // as many gone as not
	}
	require.NoError(t, e.rdb.HDel(ctx, "{p:7}:ev", gone...).Err())
	e.clock.Advance(40 * 24 * time.Hour)

	n, err := e.q.Trim(ctx, e.clock.Now().Add(-30*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 800-30+2, n, "every delivered event with a record")
	assert.Equal(t, int64(400), e.rdb.ZCard(ctx, "{p:7}:act:src1").Val(), "only the dead letters are left in the activity")
	assert.Zero(t, e.rdb.ZCard(ctx, "{p:7}:act:src2").Val(), "entries without a record are dropped")
	assert.Zero(t, e.rdb.ZCard(ctx, "{p:7}:act:src3").Val())
	for i, ev := range many {
		_, err := e.q.Event(ctx, 7, ev.ID)
		if i%3 == 0 {
			assert.NoError(t, err, "dead letter %d is kept", i)
		} else {
			assert.ErrorIs(t, err, tenants.ErrNotFound, "delivered event %d is removed", i)
		}
	}
	n, err = e.q.Trim(ctx, e.clock.Now().Add(-30*24*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
}
