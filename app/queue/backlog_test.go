package queue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
)

// backlog reads what hubs hold for src ("" for everyone).
func (e *env) backlog(t *testing.T, src string, hubs ...int64) queue.Backlog {
	t.Helper()
	b, err := e.q.Backlog(context.Background(), hubs, src)
	require.NoError(t, err)
	return b
}

// TestBacklogCounts: a portal's backlog counts the signups it holds —
// queued, retrying or dead-lettered — with their payload bytes, per source
// and in total: delivery takes them out, a dead letter stays until it is
// replayed and delivered, purging a source or a portal drops its share.
func TestBacklogCounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a1 := e.enqueue(t, 1001, "src_a", "a1@example.com")
	a2 := e.enqueue(t, 1001, "src_a", "a2@example.com")
	e.enqueue(t, 1001, "src_b", "b1@example.com")
	e.enqueue(t, 1002, "src_a", "a3@example.com")
	size := int64(payload.SizeOf(a1.Payload))
	require.Positive(t, size)
	assert.Equal(t, int64(a1.Size), size, "Enqueue records the payload's size")

	assert.Equal(t, queue.Backlog{Events: 2, Bytes: 2 * size}, e.backlog(t, "src_a", 1001))
	assert.Equal(t, queue.Backlog{Events: 3, Bytes: 3 * size}, e.backlog(t, "src_a", 1001, 1002))
	assert.Equal(t, queue.Backlog{Events: 3, Bytes: 3 * size}, e.backlog(t, "", 1001))
	assert.Equal(t, queue.Backlog{Events: 4, Bytes: 4 * size}, e.backlog(t, "", 1001, 1002))

	items, err := e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	var updates []queue.Update
	for _, it := range items {
		ev := it.Event
		switch ev.ID {
		case a1.ID:
			ev.Status = queue.Delivered
		case a2.ID:
			now := e.clock.Now()
			ev.Status, ev.FirstFailure = queue.Failed, &now
		default:
			ev.Attempts = 1 // retrying: still queued
		}
		updates = append(updates, queue.Update{StreamID: it.StreamID, Event: ev})
	}
	require.NoError(t, e.q.Finish(ctx, 1001, updates))
	assert.Equal(t, queue.Backlog{Events: 1, Bytes: size}, e.backlog(t, "src_a", 1001), "the dead letter stays, the delivered one left")
	assert.Equal(t, queue.Backlog{Events: 2, Bytes: 2 * size}, e.backlog(t, "", 1001))

	n, err := e.q.Replay(ctx, []int64{1001}, "src_a", nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, queue.Backlog{Events: 1, Bytes: size}, e.backlog(t, "src_a", 1001), "a replay moves, it does not add")
	items, err = e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	updates = updates[:0]
	for _, it := range items {
		ev := it.Event
		ev.Status = queue.Delivered
		updates = append(updates, queue.Update{StreamID: it.StreamID, Event: ev})
	}
	require.NoError(t, e.q.Finish(ctx, 1001, updates))
	assert.Equal(t, queue.Backlog{}, e.backlog(t, "", 1001), "everything delivered")

	e.enqueue(t, 1001, "src_a", "a4@example.com")
	e.enqueue(t, 1001, "src_b", "b2@example.com")
	require.NoError(t, e.q.PurgeSource(ctx, []int64{1001, 1002}, "src_a"))
	assert.Equal(t, queue.Backlog{}, e.backlog(t, "src_a", 1001, 1002))
	assert.Equal(t, queue.Backlog{Events: 1, Bytes: size}, e.backlog(t, "", 1001), "src_b's share stays")
	require.NoError(t, e.q.PurgePortal(ctx, 1001, []string{"src_b"}))
	assert.Equal(t, queue.Backlog{}, e.backlog(t, "", 1001))
}

// TestBacklogNeverBelowZero: an event queued before backlogs were counted
// is delivered without making a count negative.
func TestBacklogNeverBelowZero(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.enqueue(t, 1001, "src_a", "old@example.com")
	require.NoError(t, e.rdb.Del(ctx, "{p:1001}:backlog").Err()) // as before the upgrade
	items, err := e.q.Head(ctx, 1001, 1)
	require.NoError(t, err)
	ev := items[0].Event
	ev.Status = queue.Delivered
	require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{StreamID: items[0].StreamID, Event: ev}}))
	assert.Equal(t, queue.Backlog{}, e.backlog(t, "src_a", 1001))
	assert.Equal(t, queue.Backlog{}, e.backlog(t, "", 1001))
}

// TestRefusedRequestsAreBounded: a source keeps its newest refused
// requests only; older records leave the activity and storage.
func TestRefusedRequestsAreBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.q.KeepRefused(5)
	var ids []string
	for i := range 8 {
		now := e.clock.Advance(time.Second)
		ev := &queue.Event{ID: queue.NewEventID(now), SourceID: "src_a", HubID: 1001, Status: queue.Rejected,
			ReceivedAt: now, UpdatedAt: now, Reason: fmt.Sprintf("refused %d", i),
			Payload: []payload.Field{{Path: "x", Value: strings.Repeat("y", 100)}}}
		require.NoError(t, e.q.RecordRejected(ctx, ev))
		ids = append(ids, ev.ID)
	}
	kept := e.enqueue(t, 1001, "src_a", "ok@example.com")
	act, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Limit: 100})
	require.NoError(t, err)
	var got []string
	for _, ev := range act {
		got = append(got, ev.ID)
	}
	assert.ElementsMatch(t, append([]string{kept.ID}, ids[3:]...), got, "the 5 newest refusals and the queued signup")
	stored, err := e.rdb.HLen(ctx, "{p:1001}:ev").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(6), stored, "older refusals are gone from storage too")
	st, err := e.q.Stats(ctx, 1001, "src_a", e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(8), st.Rejected, "the day's count still counts every refusal")
}

// deadLetterMany dead-letters n signups of src on hub, in groups that
// share a failure time (one Finish), as a failing batch does.
func (e *env) deadLetterMany(t *testing.T, hub int64, src string, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		now := e.clock.Advance(time.Millisecond)
		var updates []queue.Update
		for i := 0; i < 100 && len(ids) < n; i++ {
			ev := *e.event(hub, src, fmt.Sprintf("d%d@example.com", len(ids)))
			ev.Status, ev.FirstFailure = queue.Failed, &now
			updates = append(updates, queue.Update{Event: ev})
			ids = append(ids, ev.ID)
		}
		require.NoError(t, e.q.Finish(context.Background(), hub, updates))
	}
	return ids
}

// TestDeadLettersInPages: dead letters are read a page at a time, oldest
// failure first, across portals; following the cursors visits each one
// exactly once, even where a page ends inside a group that failed at the
// same millisecond. A cursor refhub did not hand out is refused.
func TestDeadLettersInPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := map[string]bool{}
	for _, id := range e.deadLetterMany(t, 1001, "src_a", 230) {
		want[id] = true
	}
	for _, id := range e.deadLetterMany(t, 1002, "src_a", 45) {
		want[id] = true
	}
	e.deadLetterMany(t, 1001, "src_b", 10)
	seen := map[string]bool{}
	var last time.Time
	cursor, pages := "", 0
	for {
		page, next, err := e.q.DeadLetters(ctx, []int64{1001, 1002}, "src_a", queue.DeadPage{After: cursor, Limit: 40})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 40)
		pages++
		for _, ev := range page {
			assert.False(t, seen[ev.ID], "%s seen twice", ev.ID)
			seen[ev.ID] = true
			assert.False(t, ev.FirstFailure.Before(last), "oldest failure first")
			last = *ev.FirstFailure
		}
		if next == "" {
			break
		}
		require.Len(t, page, 40, "only the last page is short")
		cursor = next
	}
	assert.Equal(t, want, seen)
	assert.Equal(t, 7, pages)

	for _, bad := range []string{"x", "12", ":ev_1", "abc:ev_1"} {
		_, _, err := e.q.DeadLetters(ctx, []int64{1001}, "src_a", queue.DeadPage{After: bad})
		assert.ErrorIs(t, err, queue.ErrBadCursor, bad)
	}
}

// TestReplayAllIsBounded: one replay of all queues at most MaxReplay dead
// letters, the oldest; the next one takes the rest.
func TestReplayAllIsBounded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deadLetterMany(t, 1001, "src_a", queue.MaxReplay+3)
	page, _, err := e.q.DeadLetters(ctx, []int64{1001}, "src_a", queue.DeadPage{Limit: 100000})
	require.NoError(t, err)
	assert.Equal(t, queue.MaxDeadPage, len(page), "a page is never larger than MaxDeadPage")
	n, err := e.q.Replay(ctx, []int64{1001}, "src_a", nil)
	require.NoError(t, err)
	assert.Equal(t, queue.MaxReplay, n)
	left, err := e.q.DeadCount(ctx, 1001, "src_a")
	require.NoError(t, err)
	assert.Equal(t, int64(3), left)
	n, err = e.q.Replay(ctx, []int64{1001}, "src_a", nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}
