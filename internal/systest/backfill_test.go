package systest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestBackfillSurvivesSIGKILL: a backfill of a campaign of 10,000 users
// (beside another campaign of 2,000 in the same account) runs on one of two
// replicas, paced at 10 Referral Factory calls per 5 s; midway, the replica
// running it is killed with SIGKILL. The other replica carries on from the
// last finished page without anyone doing anything: every user of the
// campaign becomes a contact, none of the other, each page is read once
// (the page in flight at most twice), and no call is refused with a 429.
func TestBackfillSurvivesSIGKILL(t *testing.T) {
	rf := rftest.NewTestServer(t, rftest.Options{})
	acct := rf.AddAccount()
	other, err := rf.AddCampaign(acct.ID, "Partners")
	require.NoError(t, err)
	_, err = rf.SeedCampaign(other.ID, 20, 99, 0)
	require.NoError(t, err)
	camp, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	users, err := rf.SeedCampaign(camp.ID, 100, 99, 0)
	require.NoError(t, err)

	rs := redistest.StartT(t, redistest.StartOptions{AppendOnly: true})
	ps, hubs := portals(1, 30001)
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: "redis://" + rs.Addr + "/0", portals: ps,
		extraEnv: []string{"REFERRAL_FACTORY_API_BASE=" + rf.APIBase(), "REFERRAL_FACTORY_RATE_LIMIT=10/5s"}})
	t.Logf("cluster up")
	a := c.installAll(hubs, 501)
	src := a.createSources(1, hubs)[0]
	path := "/api/v1/sources/" + src.ID + "/backfill"

	start := time.Now()
	require.Equal(t, http.StatusAccepted, a.do(http.MethodPost, path, map[string]any{"rf_api_token": acct.Token, "campaign_id": camp.ID}, nil))
	type status struct {
		Status    string `json:"status"`
		Done      int    `json:"done"`
		Total     int    `json:"total"`
		Page      int    `json:"page"`
		Queued    int    `json:"queued"`
		WaitingOn string `json:"waiting_on"`
		Error     string `json:"error"`
	}
	var st status
	apptest.Eventually(t, time.Minute, "the backfill midway", func() bool {
		a.do(http.MethodGet, path, nil, &st)
		return st.Page >= 20
	})
	t.Logf("midway: page %d of %d, %s", st.Page, 12000/250, time.Since(start).Round(time.Millisecond))
	// The replica holding the job's lease is named by its process id.
	owner, err := rs.Client().HGet(context.Background(), "{s:"+src.ID+"}:backfill", "owner").Result()
	require.NoError(t, err)
	victim := -1
	for i, r := range c.replicas {
		if strings.Contains(owner, "/"+strconv.Itoa(r.cmd.Process.Pid)+"/") {
			victim = i
		}
	}
	require.NotEqual(t, -1, victim, "the lease names a replica: %q", owner)
	c.replicas[victim].kill()
	killedAt := st.Page
	a.at = 1 - victim // the admin talks to the survivor from now on (sessions live in Redis)

	apptest.Eventually(t, 3*time.Minute, "the backfill done", func() bool {
		a.do(http.MethodGet, path, nil, &st)
		return st.Status != "running"
	})
	require.Equal(t, "done", st.Status, st.Error)
	backfilled := time.Since(start)
	apptest.Eventually(t, 2*time.Minute, "every user delivered", func() bool {
		return len(c.sim.Contacts(hubs[0])) >= len(users)
	})
	delivered := time.Since(start)

	contacts := c.sim.Contacts(hubs[0])
	assert.Len(t, contacts, len(users), "every user of the campaign, and no one else")
	emails := map[string]bool{}
	for _, ct := range contacts {
		emails[ct.Properties["email"]] = true
		assert.NotContains(t, ct.Properties["email"], fmt.Sprintf("-%d-", other.ID), "a user of the other campaign")
	}
	for _, u := range users {
		assert.True(t, emails[u.Email], "%s is a contact", u.Email)
	}
	reads := map[int]int{}
	list, limited := 0, 0
	for _, r := range rf.Requests() {
		if r.Endpoint == "users.list" {
			list++
			if r.PerPage == 250 {
				reads[r.Page]++
			}
		}
		if r.RateLimited || r.Blocked {
			limited++
		}
	}
	pages := 12000 / 250
	again := 0
	for p := 1; p <= pages; p++ {
		require.GreaterOrEqual(t, reads[p], 1, "page %d read", p)
		again += reads[p] - 1
	}
	assert.LessOrEqual(t, again, 1, "at most the page in flight is read again")
	assert.Zero(t, limited, "no 429 provoked")
	upserts := c.sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == "contacts.batch.upsert" })
	t.Logf("backfill SIGKILL: replica %d killed at page %d; %d Referral Factory calls for %d pages (%d read again); "+
		"%d HubSpot upserts for %d contacts; backfill done in %s, delivered in %s",
		victim, killedAt, list, pages, again, upserts, len(contacts), backfilled.Round(time.Millisecond), delivered.Round(time.Millisecond))
	assert.LessOrEqual(t, upserts, 130, "about one call per 100 users")
}
