package leads_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// sourceSend is the part of the source JSON that says what it sends.
type sourceSend struct {
	Send struct {
		Referrers string `json:"referrers"`
		Leads     string `json:"leads"`
	} `json:"send"`
}

// setSend changes what the source sends through the API.
func (w *world) setSend(send map[string]string) sourceSend {
	w.t.Helper()
	var out sourceSend
	w.b.JSON(http.MethodPatch, "/api/v1/sources/"+w.src.ID, map[string]any{"send": send}, http.StatusOK, &out)
	return out
}

// hubspotCalls counts the requests refhub made to HubSpot.
func (w *world) hubspotCalls() int {
	return w.env.Sim.Count(func(hubspottest.Request) bool { return true })
}

// TestReferrersNotSent: a source set to send no referrers still accepts
// and stores a referrer's signup, makes no HubSpot call for it, and shows
// it in the activity as not sent — not a failure, not a dead letter, not
// waiting in the queue. Its leads are still delivered and do not wait for
// a referrer that will never come. Switched back, later referrers are sent.
func TestReferrersNotSent(t *testing.T) {
	w := newWorld(t)
	src := w.setSend(map[string]string{"referrers": "nothing"})
	assert.Equal(t, "nothing", src.Send.Referrers)
	assert.Equal(t, "contacts", src.Send.Leads, "a kind not named is left as it is")

	w.drain()
	w.env.Sim.ResetLog()
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.drain()
	assert.Zero(t, w.hubspotCalls(), "nothing is asked of HubSpot for a referrer not sent")
	_, ok := w.env.Sim.ContactByEmail(hub, "ref@example.com")
	assert.False(t, ok)

	evs := w.b.Activity(w.src.ID, "")
	require.Len(t, evs, 1)
	assert.Equal(t, "not_sent", evs[0].Status)
	assert.Equal(t, "ref@example.com", evs[0].Email, "stored as received")
	assert.Equal(t, "Not sent: this source sends no referrers to HubSpot.", evs[0].Reason)
	assert.Len(t, w.b.Activity(w.src.ID, "?status=not_sent"), 1)
	assert.Empty(t, w.b.Activity(w.src.ID, "?status=failed"))
	assert.Empty(t, w.b.DeadLetters(w.src.ID))
	var stats struct {
		Days []struct {
			Received, Delivered, Failed int64
			NotSent                     int64 `json:"not_sent"`
		} `json:"days"`
		Queued int64 `json:"queued"`
	}
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID+"/stats?days=1", nil, http.StatusOK, &stats)
	require.Len(t, stats.Days, 1)
	assert.Equal(t, int64(1), stats.Days[0].Received)
	assert.Zero(t, stats.Days[0].Failed, "not sent is no failure")
	assert.Zero(t, stats.Days[0].Delivered, "nor a delivery")
	assert.Equal(t, int64(1), stats.Days[0].NotSent)
	assert.Zero(t, stats.Queued, "nothing waits")
	held, err := w.env.App.Queue().Backlog(w.ctx, []int64{hub}, w.src.ID)
	require.NoError(t, err)
	assert.Zero(t, held.Events, "a signup not sent is not held against the source's quota")

	// Its lead is delivered, stored unlinked, and does not wait.
	w.send(lead(201, 100, "lead@example.com", "L1", "ref@example.com", "REF1"))
	w.drain()
	ld := w.contact("lead@example.com")
	n, err := w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Zero(t, n, "the lead does not wait for a referrer this source never sends")
	l, ok, err := w.env.App.Leads().ByContact(w.ctx, hub, ld.ID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Empty(t, l.Referrer)

	// Switched back: later referrers are sent.
	src = w.setSend(map[string]string{"referrers": "contacts"})
	assert.Equal(t, "contacts", src.Send.Referrers)
	w.send(referrer(101, "ref2@example.com", "REF2", ""))
	w.drain()
	w.contact("ref2@example.com")
	evs = w.b.Activity(w.src.ID, "?email=ref2@example.com")
	require.Len(t, evs, 1)
	assert.Equal(t, "delivered", evs[0].Status)
}

// TestLeadOfUnsentReferrerLinksToExistingContact: a lead whose source
// sends no referrers is still linked to its referrer's contact when one
// is already in HubSpot (delivered before the change, or by another
// source).
func TestLeadOfUnsentReferrerLinksToExistingContact(t *testing.T) {
	w := newWorld(t)
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.drain()
	ref := w.contact("ref@example.com")
	w.setSend(map[string]string{"referrers": "nothing"})
	w.send(lead(201, 100, "lead@example.com", "L1", "ref@example.com", "REF1"))
	w.drain()
	ld := w.contact("lead@example.com")
	assert.Equal(t, map[string][]string{ld.ID: {ref.ID}}, w.referredBy(ld.ID))
}

// TestLeadsNotSent: a source set to send no leads stores them as not
// sent, with no contact in HubSpot, even when its lead mapping could give
// it no email; referrers are still delivered.
func TestLeadsNotSent(t *testing.T) {
	w := newWorld(t)
	w.setSend(map[string]string{"leads": "nothing"})
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.send(lead(201, 100, "lead@example.com", "L1", "ref@example.com", "REF1"))
	w.send(lead(202, 100, "", "L2", "ref@example.com", "REF1"))
	w.drain()
	w.contact("ref@example.com")
	_, ok := w.env.Sim.ContactByEmail(hub, "lead@example.com")
	assert.False(t, ok, "a lead not sent makes no contact")
	notSent := w.b.Activity(w.src.ID, "?status=not_sent")
	require.Len(t, notSent, 2, "a lead without an email is stored too: it would never be sent")
	for _, ev := range notSent {
		assert.Equal(t, "Not sent: this source sends no leads to HubSpot.", ev.Reason)
	}
	assert.Empty(t, w.b.Activity(w.src.ID, "?status=rejected"))
}

// TestQueuedSignupsFollowTheSetting: what is decided is the source's
// setting when the signup is delivered, so signups queued before a change
// follow it.
func TestQueuedSignupsFollowTheSetting(t *testing.T) {
	w := newWorld(t)
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.setSend(map[string]string{"referrers": "nothing"})
	w.drain()
	_, ok := w.env.Sim.ContactByEmail(hub, "ref@example.com")
	assert.False(t, ok)
	evs := w.b.Activity(w.src.ID, "")
	require.Len(t, evs, 1)
	assert.Equal(t, "not_sent", evs[0].Status)
}

// TestSendValidated: a bad choice is refused, naming the choices.
func TestSendValidated(t *testing.T) {
	w := newWorld(t)
	status, body := w.b.Do(http.MethodPatch, "/api/v1/sources/"+w.src.ID, map[string]any{"send": map[string]string{"referrers": "deals"}})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, string(body), `send.referrers: \"deals\" is neither \"contacts\" nor \"nothing\"`)

	var src sourceSend
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID, nil, http.StatusOK, &src)
	assert.Equal(t, "contacts", src.Send.Referrers, "a refused change changes nothing")
}
