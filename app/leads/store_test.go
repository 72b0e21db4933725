package leads

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/redistest"
)

// TestPendingBounded: at most maxPending leads wait per portal; past it
// the longest-waiting gives up its wait, every trace of it removed.
func TestPendingBounded(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	now := time.Unix(1_700_000_000, 0)
	s := New(rdb, nil, func() time.Time { return now }, func(context.Context, int64) error { return nil })
	s.maxPending = 3
	for i := range 5 {
		require.NoError(t, s.addPending(ctx, 1, map[string][]string{fmt.Sprint("c", i): {idKey(fmt.Sprint(i)), codeKey(fmt.Sprint("C", i))}}))
		now = now.Add(time.Second)
	}
	n, err := s.Pending(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	gone, err := s.waitingFor(ctx, 1, []string{idKey("0"), codeKey("C1")})
	require.NoError(t, err)
	assert.Empty(t, gone, "the two oldest gave up")
	kept, err := s.waitingFor(ctx, 1, []string{idKey("4"), codeKey("C2")})
	require.NoError(t, err)
	assert.ElementsMatch(t, []waiting{{"c4", idKey("4")}, {"c2", codeKey("C2")}}, kept)
	assert.Equal(t, int64(6), rdb.ZCard(ctx, pendIdxKey(1)).Val(), "the index holds the kept leads' keys only")

	require.NoError(t, s.dropPending(ctx, 1, []string{"c2", "c3", "c4"}))
	for _, k := range []string{pendKey(1), pendIdxKey(1), pendAgeKey(1)} {
		assert.Zero(t, rdb.Exists(ctx, k).Val(), "%s is empty once every lead is linked", k)
	}
}

// TestClusterKeys: a portal's lead keys share its hash slot, so the
// multi-key steps (a qualification, deleting a portal) work on Redis
// Cluster.
func TestClusterKeys(t *testing.T) {
	ctx := context.Background()
	nodes := redistest.StartClusterT(t, redistest.StartOptions{}, redistest.StartOptions{}, redistest.StartOptions{})
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes})
	t.Cleanup(func() { _ = rdb.Close() })
	signalled := 0
	s := New(rdb, nil, time.Now, func(context.Context, int64) error { signalled++; return nil })
	for hub := int64(1); hub <= 20; hub++ {
		ds := []Delivered{
			{Subject: Subject{Source: "s", Self: []string{idKey("1"), emailKey("r@x.com")}}, ContactID: "10"},
			{Subject: Subject{Source: "s", Lead: true, Code: "L1", Email: "l@x.com", Self: []string{idKey("2")}, Referrer: []string{idKey("1")}}, ContactID: "20"},
		}
		require.NoError(t, s.register(ctx, hub, ds))
		links, waits, err := s.plan(ctx, hub, ds)
		require.NoError(t, err)
		require.Empty(t, waits)
		require.NoError(t, s.record(ctx, hub, links))
		require.NoError(t, s.addPending(ctx, hub, map[string][]string{"30": {idKey("9")}}))
		first, err := s.MarkQualified(ctx, hub, "s", "L1")
		require.NoError(t, err)
		assert.True(t, first)
		dirty, err := s.HasCountsToWrite(ctx, hub)
		require.NoError(t, err)
		assert.True(t, dirty)
		assert.Equal(t, int64(1), rdb.SCard(ctx, qofKey(hub, "10")).Val())
		require.NoError(t, s.Purge(ctx, hub))
		l, ok, err := s.ByContact(ctx, hub, "20")
		require.NoError(t, err)
		assert.False(t, ok, "purged: %+v", l)
	}
	assert.Equal(t, 20, signalled)
}
