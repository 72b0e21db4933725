package tenants_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/tenants"
)

// TestSourceCacheWritePath: a change made through the cache is seen at
// once by the replica that made it, and by another replica as soon as the
// change is announced (without waiting for the copy to go stale).
func TestSourceCacheWritePath(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mine, other := tenants.NewSourceCache(e.store, e.clock.Now), tenants.NewSourceCache(e.store, e.clock.Now)
	go other.Follow(ctx, e.rdb, slog.New(slog.DiscardHandler))
	for _, c := range []*tenants.SourceCache{mine, other} {
		got, err := c.ByToken(ctx, src.Token)
		require.NoError(t, err)
		require.Equal(t, "Spring campaign", got.Name)
	}

	require.Eventually(t, func() bool { // Follow has subscribed: an announcement now reaches it
		return e.rdb.PubSubNumSub(ctx, tenants.SourcesChannel).Val()[tenants.SourcesChannel] > 0
	}, 5*time.Second, time.Millisecond)
	src.Name = "Renamed"
	_, err := mine.Save(ctx, src)
	require.NoError(t, err)
	got, err := mine.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.Name, "the replica that saved sees the change at once")
	require.Eventually(t, func() bool {
		got, err := other.Source(ctx, src.ID)
		return err == nil && got.Name == "Renamed"
	}, 5*time.Second, 5*time.Millisecond, "another replica drops its copy when the change is announced")

	rotated, err := mine.Rotate(ctx, src)
	require.NoError(t, err)
	assert.Equal(t, tenants.TokenUnseen, mine.Token(src.Token), "the old token is no longer known")
	_, err = mine.ByToken(ctx, src.Token)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "the old webhook URL stops working")
	got, err = mine.ByToken(ctx, rotated.Token)
	require.NoError(t, err)
	assert.Equal(t, src.ID, got.ID)

	require.NoError(t, mine.Delete(ctx, rotated))
	_, err = mine.ByToken(ctx, rotated.Token)
	assert.ErrorIs(t, err, tenants.ErrNotFound, "a deleted source's URL stops working")
}

// TestSourceCacheTokenStates: a token met through a lookup is known; one
// Redis did not know is answered from memory for a minute, then looked up
// again.
func TestSourceCacheTokenStates(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx := context.Background()
	c := tenants.NewSourceCache(e.store, e.clock.Now)
	assert.Equal(t, tenants.TokenUnseen, c.Token(src.Token))
	_, err := c.ByToken(ctx, src.Token)
	require.NoError(t, err)
	assert.Equal(t, tenants.TokenKnown, c.Token(src.Token))

	unknown := tenants.NewSecret()
	c.Missing(unknown)
	assert.Equal(t, tenants.TokenMissing, c.Token(unknown))
	e.clock.Advance(59 * time.Second)
	assert.Equal(t, tenants.TokenMissing, c.Token(unknown))
	e.clock.Advance(time.Second)
	assert.Equal(t, tenants.TokenUnseen, c.Token(unknown), "after a minute the token is looked up again")
}

// TestSourceCacheCopiesGoStale: without an announcement, a cached copy is
// read again after 30 seconds (a lost message costs at most that).
func TestSourceCacheCopiesGoStale(t *testing.T) {
	e, _, src := newSourceEnv(t)
	ctx := context.Background()
	c := tenants.NewSourceCache(e.store, e.clock.Now)
	_, err := c.Source(ctx, src.ID)
	require.NoError(t, err)
	src.Name = "Changed elsewhere"
	_, err = e.store.SaveSource(ctx, src) // not through this cache, and nobody follows
	require.NoError(t, err)
	got, err := c.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, "Spring campaign", got.Name, "the copy is used while fresh")
	e.clock.Advance(30 * time.Second)
	got, err = c.Source(ctx, src.ID)
	require.NoError(t, err)
	assert.Equal(t, "Changed elsewhere", got.Name)
}
