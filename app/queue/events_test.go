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

func TestHeadReturnsItemsInArrivalOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var want []queue.Event
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"} {
		want = append(want, e.enqueue(t, 1001, "src_a", email))
		e.clock.Advance(time.Second)
	}
	e.enqueue(t, 1002, "src_a", "other@example.com")

	tests := []struct {
		name string
		n    int
		want []queue.Event
	}{
		{name: "fewer than waiting", n: 3, want: want[:3]},
		{name: "more than waiting", n: 100, want: want},
		{name: "one", n: 1, want: want[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := e.q.Head(ctx, 1001, tt.n)
			require.NoError(t, err)
			require.Len(t, items, len(tt.want))
			prev := ""
			for i, it := range items {
				assert.Equal(t, tt.want[i], it.Event)
				assert.False(t, it.Missing)
				assert.NotEmpty(t, it.StreamID)
				if prev != "" {
					assert.True(t, streamBefore(t, prev, it.StreamID), "%s before %s", prev, it.StreamID)
				}
				prev = it.StreamID
			}
		})
	}

	items, err := e.q.Head(ctx, 4242, 10)
	require.NoError(t, err)
	assert.Empty(t, items, "no lane")

	require.NoError(t, e.rdb.HDel(ctx, "{p:1001}:ev", want[1].ID).Err())
	items, err = e.q.Head(ctx, 1001, 3)
	require.NoError(t, err)
	require.Len(t, items, 3)
	assert.Equal(t, []bool{false, true, false}, []bool{items[0].Missing, items[1].Missing, items[2].Missing},
		"an entry whose record is gone is reported, not skipped")
}

// streamBefore orders stream ids ("ms-seq").
func streamBefore(t *testing.T, a, b string) bool {
	t.Helper()
	var ams, aseq, bms, bseq int64
	_, err := fmt.Sscanf(a, "%d-%d", &ams, &aseq)
	require.NoError(t, err)
	_, err = fmt.Sscanf(b, "%d-%d", &bms, &bseq)
	require.NoError(t, err)
	return ams < bms || ams == bms && aseq < bseq
}

func TestFinish(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	delivered := e.enqueue(t, 1001, "src_a", "a@example.com")
	failed := e.enqueue(t, 1001, "src_a", "b@example.com")
	retrying := e.enqueue(t, 1001, "src_a", "c@example.com")
	otherSource := e.enqueue(t, 1001, "src_b", "d@example.com")
	items, err := e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	require.Len(t, items, 4)

	now := e.clock.Advance(time.Minute)
	updates := make([]queue.Update, len(items))
	for i, it := range items {
		ev := it.Event
		switch ev.ID {
		case delivered.ID:
			ev.Status, ev.Outcome, ev.ContactID, ev.DeliveredAt = queue.Delivered, queue.Created, "c-1", &now
		case failed.ID, otherSource.ID:
			ev.Status, ev.Attempts, ev.FirstFailure, ev.LastFailure = queue.Failed, 1, &now, &now
			ev.Reason, ev.Code, ev.Property, ev.Fix = "Invalid email", "INVALID_EMAIL", "email", "Correct it"
		case retrying.ID:
			ev.Attempts, ev.FirstFailure, ev.LastFailure, ev.Reason = 1, &now, &now, "HubSpot answered 503"
		}
		updates[i] = queue.Update{StreamID: it.StreamID, Event: ev}
	}
	require.NoError(t, e.q.Finish(ctx, 1001, updates))

	head, err := e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	require.Len(t, head, 1, "only the retrying event stays on the lane")
	assert.Equal(t, retrying.ID, head[0].Event.ID)
	assert.Equal(t, items[2].StreamID, head[0].StreamID)
	assert.Equal(t, 1, head[0].Event.Attempts, "with its updated record")
	assert.Equal(t, "HubSpot answered 503", head[0].Event.Reason)
	assert.Equal(t, now, head[0].Event.UpdatedAt)

	got, err := e.q.Event(ctx, 1001, delivered.ID)
	require.NoError(t, err)
	assert.Equal(t, queue.Delivered, got.Status)
	assert.Equal(t, queue.Created, got.Outcome)
	assert.Equal(t, "c-1", got.ContactID)
	assert.Equal(t, now, got.UpdatedAt)

	deadA, _, err := e.q.DeadLetters(ctx, []int64{1001}, "src_a", queue.DeadPage{})
	require.NoError(t, err)
	assert.Equal(t, []string{failed.ID}, ids(deadA))
	assert.Equal(t, "INVALID_EMAIL", deadA[0].Code)
	deadB, _, err := e.q.DeadLetters(ctx, []int64{1001}, "src_b", queue.DeadPage{})
	require.NoError(t, err)
	assert.Equal(t, []string{otherSource.ID}, ids(deadB))

	stats := func(src string) queue.DayStats {
		t.Helper()
		s, err := e.q.Stats(ctx, 1001, src, now)
		require.NoError(t, err)
		return s
	}
	assert.Equal(t, queue.DayStats{Received: 4, Delivered: 1, Failed: 2}, stats(""))
	assert.Equal(t, queue.DayStats{Received: 3, Delivered: 1, Failed: 1}, stats("src_a"))
	assert.Equal(t, queue.DayStats{Received: 1, Failed: 1}, stats("src_b"))

	// The retrying event is delivered on a later round.
	e.clock.Advance(time.Minute)
	ev := head[0].Event
	ev.Status, ev.Outcome = queue.Delivered, queue.Updated
	require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{StreamID: head[0].StreamID, Event: ev}}))
	depth, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	assert.Zero(t, depth)
	assert.Equal(t, queue.DayStats{Received: 4, Delivered: 2, Failed: 2}, stats(""))

	assert.NoError(t, e.q.Finish(ctx, 1001, nil), "nothing to record")
}

func TestDeadLettersOldestFailureFirst(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fail := func(hub int64, email string, firstFailure *time.Time) queue.Event {
		t.Helper()
		ev := *e.event(hub, "src_a", email)
		ev.Status, ev.FirstFailure = queue.Failed, firstFailure
		require.NoError(t, e.q.Finish(ctx, hub, []queue.Update{{Event: ev}}))
		e.clock.Advance(time.Minute)
		return ev
	}
	early := t0.Add(-time.Hour)
	b := fail(1002, "b@example.com", nil)    // failed at t0+0
	c := fail(1001, "c@example.com", nil)    // failed at t0+1m
	a := fail(1001, "a@example.com", &early) // recorded last, but first failed an hour before
	d := fail(1001, "d@example.com", nil)    // a third on one portal: every one is listed

	dead, _, err := e.q.DeadLetters(ctx, []int64{1001, 1002}, "src_a", queue.DeadPage{})
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID, b.ID, c.ID, d.ID}, ids(dead))

	dead, _, err = e.q.DeadLetters(ctx, []int64{1002}, "src_a", queue.DeadPage{})
	require.NoError(t, err)
	assert.Equal(t, []string{b.ID}, ids(dead), "only the portals asked for")
	dead, _, err = e.q.DeadLetters(ctx, []int64{1001, 1002}, "src_b", queue.DeadPage{})
	require.NoError(t, err)
	assert.Empty(t, dead)
}

// deadLetters fails one event per email (src_a on hubs 1001 and 1002,
// src_b on 1001) and leaves every lane empty and idle.
func deadLetters(t *testing.T, e *env) map[string]queue.Event {
	t.Helper()
	ctx := context.Background()
	out := map[string]queue.Event{}
	for _, f := range []struct {
		key  string
		hub  int64
		src  string
		addr string
	}{
		{"a1", 1001, "src_a", "a1@example.com"},
		{"a2", 1001, "src_a", "a2@example.com"},
		{"a3", 1002, "src_a", "a3@example.com"},
		{"b1", 1001, "src_b", "b1@example.com"},
	} {
		ev := e.enqueue(t, f.hub, f.src, f.addr)
		items, err := e.q.Head(ctx, f.hub, 1)
		require.NoError(t, err)
		now := e.clock.Now()
		ev.Status, ev.Attempts, ev.FirstFailure, ev.LastFailure = queue.Failed, 2, &now, &now
		ev.Reason, ev.Fix, ev.Code, ev.Property = "Invalid option", "Pick a valid one", "INVALID_OPTION", "stage"
		require.NoError(t, e.q.Finish(ctx, f.hub, []queue.Update{{StreamID: items[0].StreamID, Event: ev}}))
		ev.UpdatedAt = now
		out[f.key] = ev
		e.clock.Advance(time.Second)
	}
	for range 3 {
		l, _, err := e.q.Claim(ctx, "setup", ttl)
		require.NoError(t, err)
		if l != nil {
			require.NoError(t, e.q.Release(ctx, l))
		}
	}
	require.Empty(t, ready(t, e.rdb))
	return out
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		ids    func(dead map[string]queue.Event) []string
		wantN  int
		wantQd []string // keys of the events queued again
	}{
		{name: "all of a source, across portals", src: "src_a", wantN: 3, wantQd: []string{"a1", "a2", "a3"},
			ids: func(map[string]queue.Event) []string { return nil }},
		{name: "by id", src: "src_a", wantN: 1, wantQd: []string{"a2"},
			ids: func(d map[string]queue.Event) []string { return []string{d["a2"].ID} }},
		{name: "unknown id", src: "src_a", wantN: 0,
			ids: func(map[string]queue.Event) []string { return []string{"ev_unknown"} }},
		{name: "id of another source", src: "src_a", wantN: 0,
			ids: func(d map[string]queue.Event) []string { return []string{d["b1"].ID} }},
		{name: "the other source", src: "src_b", wantN: 1, wantQd: []string{"b1"},
			ids: func(map[string]queue.Event) []string { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			dead := deadLetters(t, e)
			now := e.clock.Advance(time.Hour)
			hubs := []int64{1001, 1002}

			n, err := e.q.Replay(ctx, hubs, tt.src, tt.ids(dead))
			require.NoError(t, err)
			assert.Equal(t, tt.wantN, n)
			n, err = e.q.Replay(ctx, hubs, tt.src, tt.ids(dead))
			require.NoError(t, err)
			assert.Zero(t, n, "replaying twice queues once")

			queued := map[string]bool{}
			signalled := map[string]bool{}
			for _, k := range tt.wantQd {
				queued[k] = true
				signalled[map[int64]string{1001: "1001", 1002: "1002"}[dead[k].HubID]] = true
			}
			for k, ev := range dead {
				got, err := e.q.Event(ctx, ev.HubID, ev.ID)
				require.NoError(t, err)
				if !queued[k] {
					assert.Equal(t, ev, got, "%s untouched", k)
					continue
				}
				want := ev
				want.Status, want.Replays, want.UpdatedAt = queue.Queued, 1, now
				want.Reason, want.Fix, want.Code, want.Property = "", "", "", ""
				assert.Equal(t, want, got, "%s queued again, keeping its receive time and failure history", k)
			}
			for _, hub := range hubs {
				items, err := e.q.Head(ctx, hub, 10)
				require.NoError(t, err)
				for _, it := range items {
					assert.Contains(t, tt.wantQd, keyOf(dead, it.Event.ID))
				}
			}
			var depth int64
			for _, hub := range hubs {
				d, err := e.q.Depth(ctx, hub)
				require.NoError(t, err)
				depth += d
			}
			assert.Equal(t, int64(len(tt.wantQd)), depth)

			var left []string
			for _, src := range []string{"src_a", "src_b"} {
				d, _, err := e.q.DeadLetters(ctx, hubs, src, queue.DeadPage{})
				require.NoError(t, err)
				for _, ev := range d {
					left = append(left, keyOf(dead, ev.ID))
				}
			}
			var wantLeft []string
			for k := range dead {
				if !queued[k] {
					wantLeft = append(wantLeft, k)
				}
			}
			assert.ElementsMatch(t, wantLeft, left, "the others stay dead letters")

			r := ready(t, e.rdb)
			assert.Len(t, r, len(signalled), "the lanes with replayed events are signalled")
			for hub := range signalled {
				assert.Contains(t, r, hub)
			}
		})
	}
}

func keyOf(m map[string]queue.Event, id string) string {
	for k, ev := range m {
		if ev.ID == id {
			return k
		}
	}
	return "?" + id
}

func TestConcurrentReplaysQueueEachDeadLetterOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	deadLetters(t, e)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 8 {
		wg.Go(func() {
			n, err := e.q.Replay(ctx, []int64{1001, 1002}, "src_a", nil)
			assert.NoError(t, err)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 3, total)
	d1, err := e.q.Depth(ctx, 1001)
	require.NoError(t, err)
	d2, err := e.q.Depth(ctx, 1002)
	require.NoError(t, err)
	assert.Equal(t, int64(3), d1+d2)
}
