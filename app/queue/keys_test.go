package queue_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// populate gives a portal one of everything the queue stores for it: lane
// entries, records, activity and dead letters of two sources, a dedupe
// marker, counters, retry state, the delivered-email marks and its entries
// in the global lane sets. (The portal's rate-limit state is app/ratelimit's:
// its own tests cover its keys.)
func populate(t *testing.T, e *env, hub int64) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.q.Register(ctx, hub))
	for _, src := range []string{"src_a", "src_b"} {
		failed := e.enqueue(t, hub, src, "x@example.com")
		e.clock.Advance(time.Millisecond)
		delivered := e.enqueue(t, hub, src, "x@example.com")
		e.enqueue(t, hub, src, "y@example.com")
		items, err := e.q.Head(ctx, hub, 100)
		require.NoError(t, err)
		sid := map[string]string{}
		for _, it := range items {
			sid[it.Event.ID] = it.StreamID
		}
		failed.Status, delivered.Status = queue.Failed, queue.Delivered
		require.NoError(t, e.q.Finish(ctx, hub, []queue.Update{
			{StreamID: sid[failed.ID], Event: failed}, {StreamID: sid[delivered.ID], Event: delivered}}))
		rej := e.event(hub, src, "")
		rej.Status = queue.Rejected
		require.NoError(t, e.q.RecordRejected(ctx, rej))
	}
	require.NoError(t, e.q.SetRetry(ctx, hub, queue.RetryState{Attempts: 1, FirstFailure: e.clock.Now(), LastError: "503"}))
}

func TestEveryKeyOfAPortalSharesItsHashTag(t *testing.T) {
	e := newEnv(t)
	populate(t, e, 1001)
	populate(t, e, 1002)
	l := e.claim(t, "w1")
	require.NoError(t, e.q.Requeue(context.Background(), l, e.clock.Now().Add(time.Minute))) // a hold

	kinds := map[string]bool{}
	for _, k := range keys(t, e.rdb) {
		open, end := strings.Index(k, "{"), strings.Index(k, "}")
		require.True(t, open == 0 && end > 0, "key %q has no leading hash tag", k)
		tag := k[1:end]
		if tag == "lanes" {
			continue
		}
		assert.Contains(t, []string{"p:1001", "p:1002"}, tag, "key %q", k)
		kind := strings.TrimPrefix(k[end+1:], ":")
		if i := strings.IndexAny(kind, ":"); i >= 0 {
			kind = kind[:i]
		}
		kinds[kind] = true
	}
	for _, kind := range []string{"lane", "ev", "act", "dead", "seen", "stats", "hwm", "retry"} {
		assert.True(t, kinds[kind], "the scenario stores a %q key", kind)
	}
}

func TestPurgePortal(t *testing.T) {
	tests := []struct {
		name string
		lane func(t *testing.T, e *env) // leaves portal 1001's lane in some state
	}{
		{name: "ready", lane: func(*testing.T, *env) {}},
		{name: "leased", lane: func(t *testing.T, e *env) {
			require.Equal(t, int64(1001), e.claim(t, "w1").HubID)
		}},
		{name: "held", lane: func(t *testing.T, e *env) {
			l := e.claim(t, "w1")
			require.NoError(t, e.q.Requeue(context.Background(), l, e.clock.Now().Add(time.Hour)))
		}},
		{name: "parked", lane: func(t *testing.T, e *env) {
			require.NoError(t, e.q.Park(context.Background(), e.claim(t, "w1")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			populate(t, e, 1001)
			e.clock.Advance(time.Second) // 1002's lane is due after 1001's
			populate(t, e, 1002)
			tt.lane(t, e)
			before := portalKeys(t, e, 1002)
			require.NotEmpty(t, before)
			hash := firstSeen(t, e, 1001)
			require.NotEmpty(t, hash)
			e.clock.Advance(72 * time.Hour) // the day's counters are from 3 days ago

			require.NoError(t, e.q.PurgePortal(ctx, 1001, []string{"src_a", "src_b"}))

			assert.Empty(t, portalKeys(t, e, 1001), "no key of the portal is left")
			assert.Equal(t, before, portalKeys(t, e, 1002), "another portal is untouched")
			for _, k := range []string{"{lanes}:ready", "{lanes}:lease", "{lanes}:known", "{lanes}:parked", "{lanes}:hold"} {
				members := globalMembers(t, e, k)
				assert.NotContains(t, members, "1001", k)
			}
			assert.Contains(t, globalMembers(t, e, "{lanes}:known"), "1002")
			assert.Contains(t, globalMembers(t, e, "{lanes}:ready"), "1002")

			got := e.claimable(t)
			require.NotNil(t, got)
			assert.Equal(t, int64(1002), got.HubID, "only the other portal's lane is left")
			n, err := e.q.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, n)

			// The portal is installed again and Referral Factory resends a
			// signup it sent before: it is a new signup, not a duplicate of
			// an event that no longer exists.
			resent := e.event(1001, "src_a", "x@example.com")
			id, dup, err := e.q.Enqueue(ctx, resent, hash)
			require.NoError(t, err)
			assert.False(t, dup, "a purged portal forgets what it saw")
			assert.Equal(t, resent.ID, id)
		})
	}
}

// firstSeen returns the dedupe hash of one signup the portal received.
func firstSeen(t *testing.T, e *env, hub int64) string {
	t.Helper()
	prefix := "{p:" + strconv.FormatInt(hub, 10) + "}:seen:src_a:"
	for _, k := range keys(t, e.rdb) {
		if strings.HasPrefix(k, prefix) {
			return strings.TrimPrefix(k, prefix)
		}
	}
	return ""
}

func portalKeys(t *testing.T, e *env, hub int64) []string {
	t.Helper()
	var out []string
	for _, k := range keys(t, e.rdb) {
		if strings.HasPrefix(k, "{p:"+strconv.FormatInt(hub, 10)+"}") {
			out = append(out, k)
		}
	}
	return out
}

func globalMembers(t *testing.T, e *env, key string) []string {
	t.Helper()
	ctx := context.Background()
	typ, err := e.rdb.Type(ctx, key).Result()
	require.NoError(t, err)
	switch typ {
	case "zset":
		m, err := e.rdb.ZRange(ctx, key, 0, -1).Result()
		require.NoError(t, err)
		return m
	case "hash":
		m, err := e.rdb.HKeys(ctx, key).Result()
		require.NoError(t, err)
		return m
	case "set":
		m, err := e.rdb.SMembers(ctx, key).Result()
		require.NoError(t, err)
		return m
	}
	return nil
}

func TestPurgeSourceThenDrop(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a1 := e.enqueue(t, 1001, "src_a", "a1@example.com")
	b1 := e.enqueue(t, 1001, "src_b", "b1@example.com")
	a2 := e.enqueue(t, 1001, "src_a", "a2@example.com")
	a3 := e.enqueue(t, 1002, "src_a", "a3@example.com")
	var deads []queue.Event
	for _, email := range []string{"dead1@example.com", "dead2@example.com", "dead3@example.com"} {
		dead := *e.event(1001, "src_a", email)
		dead.Status = queue.Failed
		require.NoError(t, e.q.Finish(ctx, 1001, []queue.Update{{Event: dead}}))
		deads = append(deads, dead)
	}
	rej := e.event(1001, "src_a", "")
	rej.Status = queue.Rejected
	require.NoError(t, e.q.RecordRejected(ctx, rej))

	require.NoError(t, e.q.PurgeSource(ctx, []int64{1001, 1002}, "src_a"))

	for _, ev := range append([]queue.Event{a1, a2, a3, *rej}, deads...) {
		_, err := e.q.Event(ctx, ev.HubID, ev.ID)
		assert.ErrorIs(t, err, tenants.ErrNotFound, "record of %s", ev.Email)
	}
	act, err := e.q.Activity(ctx, []int64{1001, 1002}, "src_a", queue.Filter{})
	require.NoError(t, err)
	assert.Empty(t, act)
	dl, _, err := e.q.DeadLetters(ctx, []int64{1001, 1002}, "src_a", queue.DeadPage{})
	require.NoError(t, err)
	assert.Empty(t, dl)
	for _, k := range keys(t, e.rdb) {
		assert.NotContains(t, k, ":act:src_a")
		assert.NotContains(t, k, ":dead:src_a")
	}
	act, err = e.q.Activity(ctx, []int64{1001}, "src_b", queue.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{b1.ID}, ids(act), "another source is untouched")

	// The lane still references the purged events; the worker drops them.
	items, err := e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	require.Len(t, items, 3)
	var missing []string
	for _, it := range items {
		if it.Missing {
			missing = append(missing, it.StreamID)
		} else {
			assert.Equal(t, b1.ID, it.Event.ID)
		}
	}
	require.Len(t, missing, 2)
	require.NoError(t, e.q.Drop(ctx, 1001, missing))
	require.NoError(t, e.q.Drop(ctx, 1001, nil))
	items, err = e.q.Head(ctx, 1001, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, b1.ID, items[0].Event.ID)
}
