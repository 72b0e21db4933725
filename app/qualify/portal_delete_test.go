package qualify_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// TestDeletedPortalKeepsNoEventMarkers: deleting a portal removes the
// markers of the HubSpot events refhub handled for it, instead of leaving
// them to expire.
func TestDeletedPortalKeepsNoEventMarkers(t *testing.T) {
	w := newWorld(t)
	w.customer(t)
	w.env.DeliverHubSpotWebhooks(hubspottest.Delivery{})
	w.settle(t, w.env.App)
	require.Equal(t, 1, w.qualifyCalls())
	marks := func() []string {
		keys, err := w.env.Redis.Keys(t.Context(), "{p:1001}:hsev:*").Result()
		require.NoError(t, err)
		return keys
	}
	require.NotEmpty(t, marks(), "the handled event is marked")

	status, body := w.b.Do(http.MethodDelete, "/api/v1/portals/1001", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))
	assert.Empty(t, marks())
}
