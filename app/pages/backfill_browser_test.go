package pages_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/referralfactory/rftest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestBrowserBackfill: on the source page, a wrong API token is refused
// with Referral Factory's 401 quoted; the right one starts a backfill of
// one campaign, whose progress bar moves while the page stays open (polled
// by the page's own script, under the CSP) and says what it waits on, until
// it says done; every user of the campaign becomes a contact. Screenshots:
// backfill-running, backfill-done.
func TestBrowserBackfill(t *testing.T) {
	rf := rftest.NewTestServer(t, rftest.Options{})
	acct := rf.AddAccount()
	other, err := rf.AddCampaign(acct.ID, "Partners")
	require.NoError(t, err)
	_, err = rf.SeedCampaign(other.ID, 5, 99, 0)
	require.NoError(t, err)
	camp, err := rf.AddCampaign(acct.ID, "Spring")
	require.NoError(t, err)
	users, err := rf.SeedCampaign(camp.ID, 20, 99, 0) // 2,000 users; 10 pages in the account
	require.NoError(t, err)

	s := &scenario{t: t, env: apptest.Start(t, apptest.Options{Portals: browserPortals, Delivery: true,
		Configure: func(c *app.Config) {
			c.RFAPIBase = rf.APIBase()
			c.RFRateLimit, c.RFRateWindow = 3, 2*time.Second // slow enough to watch: about 7 s
		}})}
	s.c = startChrome(t)
	s.install()
	s.createSource()
	c := s.c
	c.open(s.url("/app/sources/"+s.srcID), "#backfill")
	assert.Contains(t, c.text("#backfill"), "generating a new one there stops the old one working")

	c.fill("#rf-api-token", "not-the-token")
	c.fill("#rf-campaign", fmt.Sprint(camp.ID))
	c.submit("start with a wrong token", "#start-backfill", `document.querySelector("#backfill-error")`)
	assert.Contains(t, c.text("#backfill-error"), "Referral Factory refused the API token (401 Unauthenticated.)")

	c.fill("#rf-api-token", acct.Token)
	c.fill("#rf-campaign", fmt.Sprint(camp.ID))
	c.submit("start the backfill", "#start-backfill", s.flashHas("Backfill started"))
	c.waitFor("the bar moving", `document.querySelector("#backfill-progress").value > 0 &&
		document.querySelector("#backfill-progress").value < 100`)
	c.waitFor("what it waits on", `!document.querySelector('[data-bf="waiting"]').hidden`)
	assert.Contains(t, c.text(`[data-bf="waiting"]`), "Referral Factory's API limit")
	s.page("backfill-running")
	c.waitFor("the backfill done", `document.querySelector('[data-bf="label"]').innerText === "Backfill done"`)
	assert.Contains(t, c.text(`[data-bf="counts"]`), "2500 of 2500 users read · 2000 in the campaign · 2000 queued")
	assert.Equal(t, 100, evalJS[int](c, "read the bar", `document.querySelector("#backfill-progress").value`))
	apptest.Eventually(t, 30*time.Second, "every user delivered", func() bool { return len(s.env.Sim.Contacts(1001)) == len(users) })
	c.open(s.url("/app/sources/"+s.srcID), "#backfill")
	assert.Contains(t, c.text("#backfill"), "Backfill done")
	s.page("backfill-done")
	assert.NotContains(t, evalJS[string](c, "read the page", `document.documentElement.outerHTML`), acct.Token, "the token is never shown again")
	var problems []string
	for _, p := range c.consoleProblems(s.env.URL("")) {
		if !strings.Contains(p, "status of 422") { // the refused token's form, shown again with its error
			problems = append(problems, p)
		}
	}
	assert.Empty(t, problems, "no console errors, exceptions or CSP violations")
}
