package referralfactory_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/clocktest"
)

var t0 = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)

// env is a simulator with one account and two campaigns, and a client
// pointed at it sharing its clock.
type env struct {
	sim    *rftest.Server
	clock  *clocktest.Clock
	client *referralfactory.Client
	acct   rftest.Account
	c1, c2 rftest.Campaign
}

func newEnv(t *testing.T, opts rftest.Options) *env {
	t.Helper()
	e := &env{clock: clocktest.New(t0)}
	opts.Clock = e.clock.Now
	e.sim = rftest.NewTestServer(t, opts)
	e.acct = e.sim.AddAccount()
	var err error
	e.c1, err = e.sim.AddCampaign(e.acct.ID, "Spring")
	require.NoError(t, err)
	e.c2, err = e.sim.AddCampaign(e.acct.ID, "Autumn")
	require.NoError(t, err)
	e.client = newClient(t, e.sim, e.clock, &http.Client{Timeout: 10 * time.Second})
	return e
}

func newClient(t *testing.T, sim *rftest.Server, clock *clocktest.Clock, hc *http.Client) *referralfactory.Client {
	t.Helper()
	c, err := referralfactory.New(referralfactory.Config{APIBase: sim.APIBase(), Base: sim.URL(), HTTPClient: hc, Clock: clock.Now})
	require.NoError(t, err)
	return c
}

func (e *env) account() *referralfactory.Account { return e.client.Account(e.acct.Token) }
