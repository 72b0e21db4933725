package backfill_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/clocktest"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var t0 = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)

// env is refhub and a simulated Referral Factory on one simulated clock,
// with portal 1001 installed and one source.
type env struct {
	*apptest.Env
	rf      *rftest.Server
	browser *apptest.Browser
	src     apptest.Source
	acct    rftest.Account
}

type envOptions struct {
	rf     rftest.Options
	budget int // refhub's calls a minute per account (REFERRAL_FACTORY_RATE_LIMIT), default 540
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	clock := clocktest.New(t0)
	o.rf.Clock = clock.Now
	rf := rftest.NewTestServer(t, o.rf)
	e := apptest.Start(t, apptest.Options{Clock: clock, Configure: func(c *app.Config) {
		c.RFAPIBase = rf.APIBase()
		if o.budget > 0 {
			c.RFRateLimit, c.RFRateWindow = o.budget, time.Minute
		}
	}})
	b := e.Install(1001, 501)
	return &env{Env: e, rf: rf, browser: b, src: b.CreateSource(1001, "Referral Factory"), acct: rf.AddAccount()}
}

// campaign adds a campaign of referrers with leadsPer leads each.
func (e *env) campaign(t *testing.T, referrers, leadsPer int) (rftest.Campaign, []rftest.User) {
	t.Helper()
	c, err := e.rf.AddCampaign(e.acct.ID, "Campaign")
	require.NoError(t, err)
	users, err := e.rf.SeedCampaign(c.ID, referrers, leadsPer, 0)
	require.NoError(t, err)
	return c, users
}

// start starts a job through the API and returns its status.
func (e *env) start(t *testing.T, body map[string]any) backfill.Status {
	t.Helper()
	var st backfill.Status
	e.browser.JSON(http.MethodPost, "/api/v1/sources/"+e.src.ID+"/backfill", body, http.StatusAccepted, &st)
	return st
}

// status reads the job through the API.
func (e *env) status(t *testing.T) backfill.Status {
	t.Helper()
	var st backfill.Status
	e.browser.JSON(http.MethodGet, "/api/v1/sources/"+e.src.ID+"/backfill", nil, http.StatusOK, &st)
	return st
}

// runJobs steps every job on simulated time until none runs, and returns
// the simulated time it took.
func (e *env) runJobs(t *testing.T) time.Duration {
	t.Helper()
	return e.runJobsWatching(t, nil)
}

// runJobsWatching is runJobs, calling watch with the job's status each time
// it waits.
func (e *env) runJobsWatching(t *testing.T, watch func(backfill.Status)) time.Duration {
	t.Helper()
	ctx := context.Background()
	start := e.Clock.Now()
	for i := 0; i < 100000; i++ {
		worked, wait, err := e.App.Backfills().RunOnce(ctx)
		require.NoError(t, err)
		if !worked {
			if wait <= 0 {
				return e.Clock.Now().Sub(start)
			}
			if watch != nil {
				watch(e.status(t))
			}
			e.Clock.Advance(wait)
		}
	}
	t.Fatal("the jobs never ended")
	return 0
}

// deliverAll steps delivery on simulated time until no lane is due.
func (e *env) deliverAll(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for e.Step(ctx) {
	}
}

// rfCalls counts users.list calls and 429s at the simulator.
func (e *env) rfCalls() (list, limited int) {
	list = e.rf.Count(func(r rftest.Request) bool { return r.Endpoint == "users.list" })
	limited = e.rf.Count(func(r rftest.Request) bool { return r.RateLimited || r.Blocked })
	return list, limited
}
