package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/oauth"
)

// cutOff fails every request while down is set, as a broken network does.
type cutOff struct{ down *atomic.Bool }

func (c cutOff) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down.Load() {
		return nil, errors.New("network is down")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestTokenRefreshesAreCounted: each refresh at HubSpot is counted by its
// result, and every result is there (at 0) before the first refresh.
func TestTokenRefreshesAreCounted(t *testing.T) {
	clock := clocktest.New(time.Now())
	var down atomic.Bool
	env := apptest.Start(t, apptest.Options{Sim: hubspottest.Options{Clock: clock.Now},
		AppOpts: app.Options{Clock: clock, HTTPClient: &http.Client{Transport: cutOff{&down}, Timeout: 10 * time.Second}}})
	env.Install(1001, 501)
	refreshes := func(result string) float64 { return env.Metric("refhub_token_refreshes_total", "result", result) }
	for _, r := range []string{"ok", "revoked", "failed"} {
		assert.Zero(t, refreshes(r), r)
	}
	ctx := context.Background()

	clock.Advance(26 * time.Minute)
	_, err := env.App.Tokens().AccessToken(ctx, 1001)
	require.NoError(t, err)
	assert.Equal(t, 1.0, refreshes("ok"))

	clock.Advance(26 * time.Minute)
	down.Store(true)
	_, err = env.App.Tokens().AccessToken(ctx, 1001)
	require.Error(t, err)
	assert.Equal(t, 1.0, refreshes("failed"))

	down.Store(false)
	env.Sim.RevokeRefreshTokens(1001)
	_, err = env.App.Tokens().AccessToken(ctx, 1001)
	var re *oauth.ReconnectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 1.0, refreshes("revoked"))
	assert.Equal(t, 1.0, refreshes("ok"), "each refresh is counted once")
}

// TestRedisUpMetric: /metrics says whether this process reaches Redis.
func TestRedisUpMetric(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	assert.Equal(t, 1.0, env.Metric("refhub_redis_up"))
	require.NoError(t, env.Redis.Close())
	assert.Equal(t, 0.0, env.Metric("refhub_redis_up"))
}
