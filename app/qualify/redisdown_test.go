package qualify_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestRedisDownAtTheHubSpotWebhookIsRetried: while refhub's Redis is
// unreachable, a batch HubSpot signed is answered 503, so HubSpot sends
// it again later, and nothing is half-done (no qualify call). Once Redis
// is back, HubSpot's retry is accepted and the lead is qualified once.
func TestRedisDownAtTheHubSpotWebhookIsRetried(t *testing.T) {
	srv := redistest.StartT(t, redistest.StartOptions{AppendOnly: true, Args: []string{"--appendfsync", "always"}})
	w := newWorldOn(t, &redis.Options{Addr: srv.Addr})
	w.customer(t)

	srv.Kill()
	attempts := w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	require.Len(t, attempts, 1)
	assert.Equal(t, http.StatusServiceUnavailable, attempts[0].Status, "HubSpot is told to send the batch again")
	assert.Zero(t, w.qualifyCalls(), "nothing is qualified while refhub cannot record it")

	require.NoError(t, srv.Restart())
	// HubSpot retries a refused batch after about a minute.
	assert.Empty(t, w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{}), "not yet due")
	w.env.Clock.Advance(2 * time.Minute)
	attempts = w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	require.Len(t, attempts, 1, "HubSpot's retry")
	assert.Equal(t, http.StatusNoContent, attempts[0].Status)
	w.settle(t, w.env.App)
	assert.Equal(t, 1, w.qualifyCalls(), "qualified once, after the retry")
	assert.Equal(t, []string{w.src.ID + ":" + w.lead.Code}, w.leads.Qualified(t, hub))
}
