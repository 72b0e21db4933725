package backfill_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/internal/apptest"
)

// TestTakeoverFromLastFinishedPage: two replicas on one Redis. The first
// works two pages of a backfill and stops (as a killed process would); the
// second cannot take the job while the first one's lease lives, then
// carries on from page 3 once it expires. Every page is read once and every
// user queued once.
func TestTakeoverFromLastFinishedPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, users := e.campaign(t, 10, 99) // 1,000 users: 4 pages
	second := apptest.Start(t, apptest.Options{Redis: e.Redis.Options(), Clock: e.Clock, Configure: func(cfg *app.Config) {
		cfg.RFAPIBase, cfg.EncryptionKeys = e.rf.APIBase(), e.Config.EncryptionKeys
	}})
	ctx := context.Background()
	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	first, other := e.App.Backfills(), second.App.Backfills()

	for range 2 {
		worked, _, err := first.Step(ctx, e.src.ID)
		require.NoError(t, err)
		require.True(t, worked)
	}
	assert.Equal(t, 2, e.status(t).Page)

	worked, wait, err := other.Step(ctx, e.src.ID)
	require.NoError(t, err)
	assert.False(t, worked, "the first replica's lease lives")
	assert.Greater(t, wait.Seconds(), 10.0, "about a lease's length")

	e.Clock.Advance(wait)
	for range 2 {
		worked, _, err := other.Step(ctx, e.src.ID)
		require.NoError(t, err)
		require.True(t, worked)
	}
	st := e.status(t)
	assert.Equal(t, backfill.Done, st.Status)
	assert.Equal(t, len(users), st.Queued)
	reads := map[int]int{}
	for _, r := range e.rf.Requests() {
		if r.Endpoint == "users.list" && r.PerPage == 250 {
			reads[r.Page]++
		}
	}
	assert.Equal(t, map[int]int{1: 1, 2: 1, 3: 1, 4: 1}, reads, "each page read once")
	items, err := e.App.Queue().Head(ctx, 1001, 2000)
	require.NoError(t, err)
	assert.Len(t, items, len(users), "each user queued once")

	worked, wait, err = first.Step(ctx, e.src.ID)
	require.NoError(t, err)
	assert.False(t, worked, "the first replica, back, finds the job done")
	assert.Negative(t, int64(wait))
}
