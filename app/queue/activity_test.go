package queue_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
)

func TestActivity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type rec struct {
		hub    int64
		src    string
		email  string
		status queue.Status
	}
	recs := []rec{
		{1001, "src_a", "ann@example.com", queue.Delivered},
		{1002, "src_a", "bob@example.com", queue.Queued},
		{1001, "src_a", "ann.lee@corp.example", queue.Failed},
		{1002, "src_a", "cat@example.com", queue.Delivered},
		{1001, "src_b", "ann@example.com", queue.Queued}, // another source
		{1003, "src_a", "dan@example.com", queue.Queued}, // a portal not asked for
		{1001, "src_a", "", queue.Rejected},
		{1002, "src_a", "ann@example.com", queue.Queued},
	}
	all := map[string]string{} // id -> email
	var order []string         // ids of src_a on 1001/1002, oldest first
	for _, r := range recs {
		ev := e.event(r.hub, r.src, r.email)
		if r.status == queue.Rejected {
			ev.Status = queue.Rejected
			require.NoError(t, e.q.RecordRejected(ctx, ev))
		} else {
			_, _, err := e.q.Enqueue(ctx, ev, "h-"+ev.ID)
			require.NoError(t, err)
		}
		if r.status == queue.Delivered || r.status == queue.Failed {
			done := *ev
			done.Status = r.status
			require.NoError(t, e.q.Finish(ctx, r.hub, []queue.Update{{Event: done}}))
		}
		if r.src == "src_a" && r.hub != 1003 {
			order = append(order, ev.ID)
		}
		all[ev.ID] = r.email
		e.clock.Advance(time.Second)
	}
	newestFirst := func(idx ...int) []string {
		out := make([]string, len(idx))
		for i, j := range idx {
			out[i] = order[j]
		}
		return out
	}
	// order: 0 ann (1001 delivered), 1 bob (1002), 2 ann.lee (1001 failed),
	// 3 cat (1002 delivered), 4 rejected (1001), 5 ann (1002 queued)
	tests := []struct {
		name string
		f    queue.Filter
		want []string
	}{
		{name: "everything, newest first across portals", want: newestFirst(5, 4, 3, 2, 1, 0)},
		{name: "delivered", f: queue.Filter{Status: queue.Delivered}, want: newestFirst(3, 0)},
		{name: "failed", f: queue.Filter{Status: queue.Failed}, want: newestFirst(2)},
		{name: "rejected", f: queue.Filter{Status: queue.Rejected}, want: newestFirst(4)},
		{name: "queued", f: queue.Filter{Status: queue.Queued}, want: newestFirst(5, 1)},
		{name: "email substring", f: queue.Filter{Email: "ann"}, want: newestFirst(5, 2, 0)},
		{name: "email, any case, trimmed", f: queue.Filter{Email: "  ANN@Example  "}, want: newestFirst(5, 0)},
		{name: "email and status", f: queue.Filter{Email: "ann", Status: queue.Queued}, want: newestFirst(5)},
		{name: "no match", f: queue.Filter{Email: "zed"}, want: []string{}},
		{name: "limit", f: queue.Filter{Limit: 2}, want: newestFirst(5, 4)},
		{name: "before", f: queue.Filter{Before: t0.Add(3 * time.Second)}, want: newestFirst(2, 1, 0)},
		{name: "before is exclusive", f: queue.Filter{Before: t0.Add(3*time.Second + time.Millisecond)}, want: newestFirst(3, 2, 1, 0)},
		{name: "before and limit", f: queue.Filter{Before: t0.Add(4 * time.Second), Limit: 2}, want: newestFirst(3, 2)},
		{name: "before, filtered", f: queue.Filter{Before: t0.Add(4 * time.Second), Email: "ann"}, want: newestFirst(2, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.q.Activity(ctx, []int64{1001, 1002}, "src_a", tt.f)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(got))
		})
	}

	got, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{})
	require.NoError(t, err)
	assert.Equal(t, newestFirst(4, 2, 0), ids(got), "one portal")
	assert.Equal(t, queue.Delivered, got[2].Status, "with the current state of each event")
}

func TestActivityPagesAndDefaultLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var want []string
	for i := range 120 {
		hub := int64(1001 + i%3)
		ev := e.enqueue(t, hub, "src_a", "ann@example.com")
		want = append([]string{ev.ID}, want...) // newest first
		e.clock.Advance(time.Millisecond)
	}
	hubs := []int64{1001, 1002, 1003}

	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{name: "default", limit: 0, want: 50},
		{name: "negative", limit: -1, want: 50},
		{name: "above the maximum", limit: 501, want: 50},
		{name: "asked for", limit: 7, want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.q.Activity(ctx, hubs, "src_a", queue.Filter{Limit: tt.limit})
			require.NoError(t, err)
			assert.Equal(t, want[:tt.want], ids(got))
		})
	}

	var paged []string
	f := queue.Filter{Limit: 25}
	for range 10 {
		page, err := e.q.Activity(ctx, hubs, "src_a", f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		f.Before = page[len(page)-1].ReceivedAt
	}
	assert.Equal(t, want, paged, "Before pages through everything exactly once")
}

func TestRetryState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	got, err := e.q.Retry(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, queue.RetryState{}, got, "none yet")

	s := queue.RetryState{Attempts: 3, FirstFailure: t0, LastError: "HubSpot answered 502"}
	require.NoError(t, e.q.SetRetry(ctx, 1001, s))
	got, err = e.q.Retry(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	ttl, err := e.rdb.PTTL(ctx, "{p:1001}:retry").Result()
	require.NoError(t, err)
	assert.InDelta(t, (7 * 24 * time.Hour).Seconds(), ttl.Seconds(), 5)
	other, err := e.q.Retry(ctx, 1002)
	require.NoError(t, err)
	assert.Equal(t, queue.RetryState{}, other, "per portal")

	require.NoError(t, e.q.SetRetry(ctx, 1001, queue.RetryState{}))
	got, err = e.q.Retry(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, queue.RetryState{}, got, "cleared")
	n, err := e.rdb.Exists(ctx, "{p:1001}:retry").Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestActivityFiltersLookPastTheFirstPage: searching by status or email
// finds an event older than the newest page of the activity, and a page of
// 500 (the most) is given whole.
func TestActivityFiltersLookPastTheFirstPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := e.enqueue(t, 1001, "src_a", "old@example.com")
	old.Status = queue.Failed
	require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{Event: old}}))
	for i := range 60 {
		e.clock.Advance(time.Second)
		ev := e.event(1001, "src_a", "new"+strconv.Itoa(i)+"@example.com")
		_, _, err := e.q.Enqueue(ctx, ev, "h-"+ev.ID)
		require.NoError(t, err)
	}

	byStatus, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Status: queue.Failed})
	require.NoError(t, err)
	assert.Equal(t, []string{old.ID}, ids(byStatus), "the failed signup behind 60 newer ones is found")
	byEmail, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Email: "old@"})
	require.NoError(t, err)
	assert.Equal(t, []string{old.ID}, ids(byEmail))

	page, err := e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Limit: 500})
	require.NoError(t, err)
	assert.Len(t, page, 61, "a limit of 500 is honoured")
	page, err = e.q.Activity(ctx, []int64{1001}, "src_a", queue.Filter{Limit: 501})
	require.NoError(t, err)
	assert.Len(t, page, 50, "a limit beyond 500 falls back to 50")
}
