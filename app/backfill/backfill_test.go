package backfill_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/referralfactory/rftest"
)

// TestBackfillTenThousand: a campaign of 10,000 users beside another
// campaign of 2,000 in the same account, read through an API limited to 20
// calls a minute (refhub's budget: 18): every user of the campaign becomes
// a contact, none of the other, with one API call per page (plus the
// token's check), no 429, and about 100 HubSpot calls.
func TestBackfillTenThousand(t *testing.T) {
	e := newEnv(t, envOptions{rf: rftest.Options{RateLimit: 20}, budget: 18})
	other, _ := e.campaign(t, 20, 99) // 2,000 users who joined first
	camp, users := e.campaign(t, 100, 99)
	require.Len(t, users, 10000)

	st := e.start(t, map[string]any{"rf_api_token": e.acct.Token, "campaign_id": camp.ID})
	assert.Equal(t, backfill.Running, st.Status)
	assert.Equal(t, 12000, st.Total, "the token's check read the account's size")
	assert.True(t, st.HasToken, "the token is kept with the source")
	took := e.runJobs(t)
	e.deliverAll(t)

	st = e.status(t)
	assert.Equal(t, backfill.Done, st.Status, st.Error)
	assert.Equal(t, 12000, st.Done)
	assert.Equal(t, 10000, st.Matched)
	assert.Equal(t, 10000, st.Queued)
	pages := 12000 / 250
	list, limited := e.rfCalls()
	assert.Equal(t, pages+1, list, "one call per page, plus the token's check")
	assert.Zero(t, limited, "no 429 provoked")
	assert.GreaterOrEqual(t, took.Minutes(), float64(pages)/18-1, "the calls were spread over the budget's minutes")
	for _, r := range e.rf.Requests() {
		if r.Endpoint == "users.list" && r.Page > 0 {
			assert.Contains(t, []int{1, 250}, r.PerPage)
		}
	}

	contacts := e.Sim.Contacts(1001)
	assert.Len(t, contacts, 10000)
	byEmail := map[string]bool{}
	for _, c := range contacts {
		byEmail[c.Properties["email"]] = true
	}
	for _, u := range users {
		if !byEmail[u.Email] {
			t.Fatalf("%s of the campaign is not a contact", u.Email)
		}
	}
	prefix := fmt.Sprintf("-%d-", other.ID)
	for email := range byEmail {
		assert.False(t, strings.Contains(email, prefix), "%s is of the other campaign", email)
	}
	upserts := e.Calls("contacts.batch.upsert")
	assert.InDelta(t, 100, upserts, 10, "10,000 users in batches of 100")
	t.Logf("backfill of 10,000 users (12,000 in the account): %d Referral Factory calls, %d HubSpot upserts, %s of simulated time at 18 calls a minute",
		list, upserts, took)
}
