package backfill_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestWebhookDuringBackfillIsNotOverwritten: a person's webhook received
// after they signed up in Referral Factory carries newer data than the copy
// a backfill reads of them. Whether the webhook was delivered before the
// backfill queued its copy, or both wait in the lane together, the contact
// keeps the webhook's values; the backfill still brings in everyone else.
func TestWebhookDuringBackfillIsNotOverwritten(t *testing.T) {
	for _, tt := range []struct {
		name            string
		deliverFirst    bool
		wantCopyOutcome queue.Outcome
	}{
		{name: "webhook delivered before the backfill", deliverFirst: true, wantCopyOutcome: queue.Superseded},
		{name: "webhook and backfilled copy in one batch", deliverFirst: false, wantCopyOutcome: queue.Created},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			c, err := e.rf.AddCampaign(e.acct.ID, "Spring")
			require.NoError(t, err)
			x, err := e.rf.AddUser(rftest.NewUser{CampaignID: c.ID, FirstName: "Old", Email: "x@example.test"})
			require.NoError(t, err)
			_, err = e.rf.SeedCampaign(c.ID, 3, 2, 0)
			require.NoError(t, err)

			// The person's webhook arrives later, with a newer first name
			// (and the campaign's id, as Referral Factory sends it).
			e.Clock.Advance(time.Minute)
			body, _ := json.Marshal(map[string]any{"email": x.Email, "first_name": "New", "campaign_id": c.ID})
			status, _ := apptest.Post(t, e.src.WebhookURL, "application/json", body)
			require.Equal(t, http.StatusAccepted, status)
			if tt.deliverFirst {
				e.deliverAll(t)
			}

			e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
			e.runJobs(t)
			e.deliverAll(t)

			contact, ok := e.Sim.ContactByEmail(1001, x.Email)
			require.True(t, ok)
			assert.Equal(t, "New", contact.Properties["firstname"], "the webhook's newer value stays")
			assert.Len(t, e.Sim.Contacts(1001), 1+3*3, "everyone else came in")

			var copyEv *apptest.Event
			for _, ev := range e.browser.Activity(e.src.ID, "?email="+x.Email) {
				if ev.Origin == "backfill" {
					copyEv = &ev
				}
			}
			require.NotNil(t, copyEv, "the backfilled copy is in the activity")
			assert.Equal(t, string(tt.wantCopyOutcome), copyEv.Outcome)
		})
	}
}

// TestNewerCopyWinsWhateverTheLaneOrder pins the rule of the merge: of two
// copies of a person in one batch, the values of the newer (by Referral
// Factory's sign-up time or the webhook's arrival) win, not the later in
// the lane.
func TestNewerCopyWinsWhateverTheLaneOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, err := e.rf.AddCampaign(e.acct.ID, "Spring")
	require.NoError(t, err)
	// Signed up in Referral Factory a day ago: older than the webhook below.
	_, err = e.rf.AddUser(rftest.NewUser{CampaignID: c.ID, FirstName: "Old", Email: "y@example.test",
		SignedUpAt: t0.Add(-24 * time.Hour)})
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"email": "y@example.test", "first_name": "New"})
	status, _ := apptest.Post(t, e.src.WebhookURL, "application/json", body)
	require.Equal(t, http.StatusAccepted, status)
	e.start(t, map[string]any{"rf_api_token": e.acct.Token})
	e.runJobs(t)
	items, err := e.App.Queue().Head(context.Background(), 1001, 10)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, queue.FromBackfill, items[1].Event.Origin, "the backfilled copy is behind the webhook in the lane")
	e.deliverAll(t)
	contact, _ := e.Sim.ContactByEmail(1001, "y@example.test")
	assert.Equal(t, "New", contact.Properties["firstname"])
}
