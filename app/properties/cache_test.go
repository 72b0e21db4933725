package properties_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/internal/redistest"
)

// staticTokens hands out one access token per portal.
type staticTokens map[int64]string

func (s staticTokens) Func(hub int64) hubspot.TokenFunc {
	return func(context.Context) (string, error) { return s[hub], nil }
}

// TestCacheListsOncePerPortal: a portal's properties are listed at HubSpot
// once for every replica (memory, then Redis), listed again on a refresh
// or after Drop, and a failed listing is not repeated on every use.
func TestCacheListsOncePerPortal(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	sim := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clock.Now})
	sim.AddPortal(hubspottest.Portal{HubID: 1001, Domain: "acme.hubspot.test", Users: []hubspottest.User{{ID: 501, Email: "a@acme.test"}}})
	access, _ := sim.IssueTokens(1001, 501, nil)
	hs := hubspot.New(hubspot.Config{APIBase: sim.URL(), ClientID: "c", ClientSecret: "s"})
	rdb := redistest.Client(t)
	lim := ratelimit.New(rdb, 100, 10*time.Second, clock)
	tokens := staticTokens{1001: access}
	listings := func() int {
		return sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "properties.list" && r.Status == 200 })
	}
	ctx := context.Background()

	one, other := properties.New(rdb, hs, tokens, lim, clock.Now), properties.New(rdb, hs, tokens, lim, clock.Now)
	defs, err := one.Properties(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, "string", defs["email"].Type)
	_, err = one.Properties(ctx, 1001)
	require.NoError(t, err)
	_, err = other.List(ctx, 1001, false)
	require.NoError(t, err)
	assert.Equal(t, 1, listings(), "one listing serves both replicas")

	_, err = other.List(ctx, 1001, true)
	require.NoError(t, err)
	assert.Equal(t, 2, listings(), "refresh lists again")
	one.Drop(ctx, 1001)
	_, err = one.Properties(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, 3, listings(), "a dropped portal is listed again")

	third := properties.New(rdb, hs, staticTokens{1001: "not-a-token"}, lim, clock.Now)
	third.Drop(ctx, 1001)
	_, err = third.Properties(ctx, 1001)
	require.Error(t, err)
	_, err = third.Properties(ctx, 1001)
	require.Error(t, err, "the failure is remembered")
	failed := sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "properties.list" && r.Status == 401 })
	assert.Equal(t, 1, failed, "and not repeated at once")
	clock.Advance(31 * time.Second)
	_, _ = third.Properties(ctx, 1001)
	failed = sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "properties.list" && r.Status == 401 })
	assert.Equal(t, 2, failed, "after 30 seconds it is tried again")
}
