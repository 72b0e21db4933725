package backfill_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/backfill"
)

// TestBackfillSkipsAKindNotSent: a source that sends no referrers
// backfills only its leads: the referrers are counted as not sent, neither
// queued nor written in HubSpot, and a reconcile after it does not bring
// them in as missing; the leads do not wait for their referrers.
func TestBackfillSkipsAKindNotSent(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, users := e.campaign(t, 5, 2) // 5 referrers, 10 leads
	require.Len(t, users, 15)
	e.browser.JSON(http.MethodPatch, "/api/v1/sources/"+e.src.ID, map[string]any{"send": map[string]string{"referrers": "nothing"}}, http.StatusOK, nil)

	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	e.runJobs(t)
	e.deliverAll(t)
	st := e.status(t)
	assert.Equal(t, backfill.Done, st.Status, st.Error)
	assert.Equal(t, 15, st.Matched)
	assert.Equal(t, 5, st.NotSent)
	assert.Equal(t, 10, st.Queued)
	contacts := e.Sim.Contacts(1001)
	assert.Len(t, contacts, 10)
	for _, ct := range contacts {
		assert.True(t, strings.HasPrefix(ct.Properties["email"], "lead-"), "only leads: %s", ct.Properties["email"])
	}
	assert.Empty(t, e.browser.Activity(e.src.ID, "?status=not_sent"), "the referrers stay in Referral Factory only")
	n, err := e.App.Leads().Pending(context.Background(), 1001)
	require.NoError(t, err)
	assert.Zero(t, n, "the leads do not wait for referrers this source never sends")

	e.start(t, map[string]any{"campaign_id": c.ID, "mode": "reconcile"})
	e.runJobs(t)
	st = e.status(t)
	assert.Equal(t, backfill.Done, st.Status, st.Error)
	assert.Zero(t, st.Queued, "the referrers not sent are not missing")
	assert.Equal(t, 5, st.NotSent)
}
