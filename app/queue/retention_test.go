package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

// TestTrimKeepsWhatIsNotFinished: old delivered and refused events leave the
// activity after the retention period; queued events and dead letters stay
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
	for i, want := range []queue.Status{queue.Delivered, queue.Failed, queue.Queued, queue.Delivered} {
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
	assert.Equal(t, 3, n, "two delivered and one refused event were old enough")
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
	dead, err := e.q.DeadLetters(ctx, []int64{7}, "src1")
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
