package backfill_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

// TestReconcileSendsOnlyTheMissing: Referral Factory's webhook brings in a
// campaign's first users, then is removed for a while (webhooks it never
// sent: it documents no retries), then comes back. A reconcile sends
// exactly the users refhub never delivered, and a second one sends none.
func TestReconcileSendsOnlyTheMissing(t *testing.T) {
	e := newEnv(t, envOptions{rf: rftest.Options{AllowHTTPWebhooks: true}})
	c, err := e.rf.AddCampaign(e.acct.ID, "Spring")
	require.NoError(t, err)
	hook := rftest.Webhook{URL: e.src.WebhookURL, Event: rftest.EventUserJoins}
	id, err := e.rf.AddWebhook(c.ID, hook)
	require.NoError(t, err)
	first, err := e.rf.SeedCampaign(c.ID, 10, 19, 0) // 200 users, sent by webhook
	require.NoError(t, err)
	e.rf.Wait()
	require.True(t, e.rf.RemoveWebhook(id))
	lost := e.join(t, c.ID, "lost", 30) // users whose webhooks are lost
	_, err = e.rf.AddWebhook(c.ID, hook)
	require.NoError(t, err)
	late := e.join(t, c.ID, "late", 10) // sent
	e.rf.Wait()
	e.deliverAll(t)
	require.Len(t, e.Sim.Contacts(1001), len(first)+len(late))
	before := e.Calls("contacts.batch.upsert")

	st := e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID, "mode": "reconcile"})
	assert.Equal(t, backfill.Reconcile, st.Mode)
	e.runJobs(t)
	e.deliverAll(t)
	st = e.status(t)
	assert.Equal(t, backfill.Done, st.Status, st.Error)
	assert.Equal(t, len(first)+len(lost)+len(late), st.Matched)
	assert.Equal(t, len(lost), st.Queued, "only the lost webhooks' users are sent")
	for _, u := range lost {
		_, ok := e.Sim.ContactByEmail(1001, u.Email)
		assert.True(t, ok, "%s came in", u.Email)
	}
	assert.Equal(t, 1, e.Calls("contacts.batch.upsert")-before, "30 users: one batch")

	e.start(t, map[string]any{"campaign_id": c.ID, "mode": "reconcile"}) // the saved token
	e.runJobs(t)
	st = e.status(t)
	assert.Equal(t, backfill.Done, st.Status)
	assert.Zero(t, st.Queued, "nothing is missing any more")
}

// join makes n users named prefix-<i>@example.test join the campaign.
func (e *env) join(t *testing.T, campaign int64, prefix string, n int) []rftest.User {
	t.Helper()
	var out []rftest.User
	for i := range n {
		u, err := e.rf.AddUser(rftest.NewUser{CampaignID: campaign, FirstName: prefix, Email: fmt.Sprintf("%s-%d@example.test", prefix, i)})
		require.NoError(t, err)
		out = append(out, u)
	}
	return out
}

// TestDailyReconcile: turned on, the chore starts a reconcile once a day and
// it heals a lost webhook; turned off, no more.
func TestDailyReconcile(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, users := e.campaign(t, 2, 4)
	ctx := context.Background()
	path := "/api/v1/sources/" + e.src.ID + "/backfill/daily"

	status, body := e.browser.Do(http.MethodPut, path, map[string]any{"enabled": true, "campaign_id": c.ID})
	assert.Equal(t, http.StatusUnprocessableEntity, status, "no token saved yet: %s", body)

	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID, "mode": "reconcile"})
	e.runJobs(t)
	var st backfill.Status
	e.browser.JSON(http.MethodPut, path, map[string]any{"enabled": true, "campaign_id": c.ID}, http.StatusOK, &st)
	require.NotNil(t, st.Daily)
	assert.Equal(t, c.ID, st.Daily.CampaignID)

	n, err := e.App.Backfills().StartDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "never run daily yet: due")
	e.runJobs(t)
	n, err = e.App.Backfills().StartDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not due again within the day")

	lost, err := e.rf.AddUser(rftest.NewUser{CampaignID: c.ID, FirstName: "Lost", Email: "lost@example.test"})
	require.NoError(t, err)
	e.Clock.Advance(24 * time.Hour)
	e.browser.Install(1001, 501) // the session ended meanwhile
	n, err = e.App.Backfills().StartDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	e.runJobs(t)
	e.deliverAll(t)
	_, ok := e.Sim.ContactByEmail(1001, lost.Email)
	assert.True(t, ok, "the daily reconcile healed the lost webhook")
	assert.Len(t, e.Sim.Contacts(1001), len(users)+1)

	var off backfill.Status
	e.browser.JSON(http.MethodPut, path, map[string]any{"enabled": false}, http.StatusOK, &off)
	assert.Nil(t, off.Daily)
	e.Clock.Advance(48 * time.Hour)
	n, err = e.App.Backfills().StartDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "off: no reconcile")
}

// TestDeleteSourceRemovesBackfill: deleting a source removes its job, its
// daily reconcile and its sealed API token; nothing of it stays in Redis.
func TestDeleteSourceRemovesBackfill(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, _ := e.campaign(t, 2, 4)
	e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": c.ID})
	e.runJobs(t)
	e.deliverAll(t)
	e.browser.JSON(http.MethodPut, "/api/v1/sources/"+e.src.ID+"/backfill/daily", map[string]any{"enabled": true}, http.StatusOK, nil)
	e.browser.JSON(http.MethodDelete, "/api/v1/sources/"+e.src.ID, nil, http.StatusNoContent, nil)

	keys, err := e.Redis.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		if strings.Contains(k, ":seen:") {
			continue // dedupe markers (hashes) expire within 24 hours, as for webhooks
		}
		assert.NotContains(t, k, e.src.ID, "a key of the deleted source is left")
		if k == "backfill:running" || k == "backfill:daily" {
			t.Errorf("%s still lists a source", k)
		}
	}
}
