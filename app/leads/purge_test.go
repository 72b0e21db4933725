package leads_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redisscan"
)

// TestDeletingASourceForgetsItsPeople: deleting a source removes its
// people from the lead index — its referrers' and leads' records, codes
// and identity keys, and the links its leads still wait for — so no
// address of theirs is left in Redis, while another source of the portal
// keeps its own: its referrer still links its new leads. Their contacts
// stay in HubSpot.
func TestDeletingASourceForgetsItsPeople(t *testing.T) {
	w := newWorld(t)
	w.referrerAndLeads(2)
	w.send(lead(250, 999, "waiting@example.com", "LW", "ghost@example.com", "GHOST"))

	other := w.b.CreateSource(hub, "Autumn")
	w.b.SetMapping(other.ID, apptest.Fields("email", "email", "first_name", "firstname", "code", "rf_referral_code"), nil, "update")
	postTo := func(src apptest.Source, body string) {
		status, resp := apptest.Post(t, src.WebhookURL, "application/json", []byte(body))
		require.Equal(t, http.StatusAccepted, status, string(resp))
	}
	postTo(other, referrer(300, "beatrix@example.com", "BREF", ""))
	w.drain()
	postTo(other, lead(301, 300, "bob@example.com", "BL1", "beatrix@example.com", "BREF"))
	w.drain()
	n, err := w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the lead naming an unknown referrer waits")

	status, body := w.b.Do(http.MethodDelete, "/api/v1/sources/"+w.src.ID, nil)
	require.Equal(t, http.StatusNoContent, status, string(body))

	for _, email := range []string{"ref@example.com", "lead0@example.com", "lead1@example.com", "waiting@example.com"} {
		hits, err := redisscan.Holding(w.ctx, w.env.Redis, email)
		require.NoError(t, err)
		assert.Empty(t, hits, "nothing of %s is left", email)
		w.contact(email) // the contact stays in HubSpot
	}
	n, err = w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Zero(t, n, "the deleted source's lead no longer waits")
	hits, err := redisscan.Holding(w.ctx, w.env.Redis, "bob@example.com")
	require.NoError(t, err)
	assert.NotEmpty(t, hits, "the other source's lead is kept")

	// The other source's referrer still links its leads; one naming the
	// deleted source's referrer waits for it like one never delivered.
	postTo(other, lead(302, 300, "bob2@example.com", "BL2", "beatrix@example.com", "BREF"))
	postTo(other, lead(303, 100, "stray@example.com", "BL3", "ref@example.com", "REF1"))
	w.drain()
	bref, blead2 := w.contact("beatrix@example.com"), w.contact("bob2@example.com")
	assert.Equal(t, []string{bref.ID}, w.referredBy(blead2.ID)[blead2.ID])
	stray := w.contact("stray@example.com")
	assert.Empty(t, w.referredBy(stray.ID)[stray.ID])
	n, err = w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}
