package workspace_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/clocktest"
)

// TestSettingsLearnOfARevokedPortal: when the mapping editor's property
// listing is what finds HubSpot refusing a portal's refresh token, the
// admin is told to reconnect and the portal shows needs_reconnect at once,
// before any signup is delivered.
func TestSettingsLearnOfARevokedPortal(t *testing.T) {
	clock := clocktest.New(time.Now())
	env := apptest.Start(t, apptest.Options{Sim: hubspottest.Options{Clock: clock.Now}, AppOpts: app.Options{Clock: clock}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	env.Sim.RevokeRefreshTokens(1001)
	clock.Advance(26 * time.Minute) // the access token is due for a refresh

	status, body := b.Do(http.MethodGet, "/api/v1/portals/1001/properties", nil)
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, string(body), "needs to be reconnected")
	portals := b.Portals()
	require.Len(t, portals, 1)
	assert.Equal(t, "needs_reconnect", portals[0].Status)
	assert.Contains(t, portals[0].StatusReason, "install refhub again")

	_, page := apptest.Get(t, b, env.URL("/app/sources/"+src.ID+"/mapping"))
	assert.True(t, strings.Contains(page, "the portal needs to be reconnected"), "the editor says why it has no properties")
}
