package systest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestHubSpotMisbehaving: for the whole run 10 % of HubSpot calls answer
// 500 or 429 or hang past refhub's client timeout; everything is delivered,
// and the 429s refhub provokes itself stay under 1 % of its calls.
func TestHubSpotMisbehaving(t *testing.T) {
	rs := redistest.StartT(t, redistest.StartOptions{})
	// Many portals and a steady flow make many small batches: thousands of
	// calls, so a 10 % fault rate shows.
	ps, hubs := portals(50, 30001)
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: "redis://" + rs.Addr + "/0", portals: ps,
		extraEnv: []string{"REFHUB_HUBSPOT_TIMEOUT=2s"}})
	a := c.installAll(hubs, 501)
	srcs := a.createSources(50, hubs)
	c.sim.SetFaults(hubspottest.Faults{ErrorRate: 0.07, Statuses: []int{500, 429}, HangRate: 0.03, Seed: 7})

	signups := c.loadGen(srcs).run("flaky", 6000, 8)
	tl := a.settle(c.sim, signups, srcs, 60*time.Second, 4*time.Minute)
	c.sim.SetFaults(hubspottest.Faults{})

	var calls, injected, provoked429, hung int
	for _, r := range c.sim.Requests() {
		if !strings.HasPrefix(r.Endpoint, "contacts.") && !strings.HasPrefix(r.Endpoint, "properties.") {
			continue
		}
		calls++
		switch {
		case r.Injected && r.Status == http.StatusGatewayTimeout:
			hung++
			injected++
		case r.Injected:
			injected++
		case r.Status == http.StatusTooManyRequests:
			provoked429++
		}
	}
	t.Logf("HubSpot misbehaving: %s; %d CRM calls, %d answered with injected faults (%d hung past the timeout), %d 429s provoked by refhub (%.2f %%)",
		tl, calls, injected, hung, provoked429, 100*float64(provoked429)/float64(calls))
	assert.Zero(t, tl.Lost)
	assert.Zero(t, tl.DeadLettered, "transient failures dead-letter nothing")
	assert.Greater(t, calls, 500, "enough calls for the fault rate to show")
	assert.Positive(t, hung)
	assert.Less(t, float64(provoked429), 0.01*float64(calls))
}

// TestRedisCluster: the same flow on a 3-primary Redis Cluster, with no
// CROSSSLOT error anywhere.
func TestRedisCluster(t *testing.T) {
	nodes := redistest.StartClusterT(t, redistest.StartOptions{}, redistest.StartOptions{}, redistest.StartOptions{})
	ps, hubs := portals(8, 40001)
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = "redis://" + n
	}
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: strings.Join(urls, ","), cluster: true, portals: ps})
	a := c.installAll(hubs, 501)
	srcs := a.createSources(16, hubs)
	signups := c.loadGen(srcs).run("cluster", 3000, 12)
	tl := a.settle(c.sim, signups, srcs, 45*time.Second, 3*time.Minute)
	t.Logf("redis cluster: %s", tl)
	assert.Zero(t, tl.Lost)
	assert.Equal(t, tl.Sent, tl.Accepted)
	assert.Zero(t, c.grepLogs("CROSSSLOT"), "no CROSSSLOT error")

	// A dead letter and its replay work on the cluster too.
	status, _ := postJSON(c.replicas[1].URL()+srcs[0].URL[strings.Index(srcs[0].URL, "/hooks/"):], `{"email":"not-an-email"}`)
	require.Equal(t, http.StatusAccepted, status)
	apptest.Eventually(t, 20*time.Second, "the dead letter", func() bool { return len(a.deadLetterEmails(srcs[:1])) == 1 })
	var rep struct{ Replayed int }
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/api/v1/sources/"+srcs[0].ID+"/dead-letters/replay", nil, &rep))
	assert.Equal(t, 1, rep.Replayed)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes})
	defer rdb.Close()
	checkNoSecrets(t, c, rdb)
}

func postJSON(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRefreshStorm: 500 portals whose access tokens all enter the refresh
// window together, two replicas busy on every one of them (one delivering,
// the other listing the portal's properties): exactly one refresh per
// portal, and no HubSpot call with an expired token.
func TestRefreshStorm(t *testing.T) {
	rs := redistest.StartT(t, redistest.StartOptions{})
	ps, hubs := portals(500, 50001)
	// refhub refreshes 5 minutes before expiry: tokens issued for 4 min
	// 50 s are all inside that window from the start (no waiting for them
	// to age into it), but still valid for HubSpot. The tokens the storm's
	// refreshes issue live 30 minutes, so a second refresh would show.
	c := startCluster(t, clusterOptions{replicas: 2, redisURL: "redis://" + rs.Addr + "/0", portals: ps,
		sim: hubspottest.Options{TokenTTL: 4*time.Minute + 50*time.Second}})
	a := c.installAll(hubs, 501)
	srcs := a.createSources(len(hubs), hubs)
	c.sim.SetTokenTTL(30 * time.Minute)
	c.sim.ResetLog()
	before := map[int64]int{}
	for _, h := range hubs {
		before[h] = c.sim.TokenGrants(h, "refresh_token")
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); signupsStorm(t, c, srcs) }()
	propsStorm(t, c, a, hubs)
	wg.Wait()

	apptest.Eventually(t, 2*time.Minute, "every portal's signup delivered", func() bool {
		for _, h := range hubs {
			if len(c.sim.Contacts(h)) == 0 {
				return false
			}
		}
		return true
	})
	refreshes := map[int]int{}
	for _, h := range hubs {
		refreshes[c.sim.TokenGrants(h, "refresh_token")-before[h]]++
	}
	expired := c.sim.Count(func(r hubspottest.Request) bool { return r.Category == "EXPIRED_AUTHENTICATION" })
	t.Logf("refresh storm over %d portals: refreshes per portal %v (count: portals), calls with an expired token: %d", len(hubs), refreshes, expired)
	assert.Equal(t, map[int]int{1: len(hubs)}, refreshes, "exactly one refresh per portal")
	assert.Zero(t, expired)
}

// signupsStorm sends one signup to every portal through replica 0.
func signupsStorm(t *testing.T, c *cluster, srcs []source) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, s := range srcs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			status, err := postJSON(c.replicas[0].URL()+s.URL[strings.Index(s.URL, "/hooks/"):],
				fmt.Sprintf(`{"email":"storm%d@example.com"}`, i))
			if err != nil || status != http.StatusAccepted {
				t.Errorf("signup %d: %d %v", i, status, err)
			}
		}()
	}
	wg.Wait()
}

// propsStorm makes replica 1 need every portal's token at the same time,
// by listing each portal's properties through it.
func propsStorm(t *testing.T, c *cluster, a *admin, hubs []int64) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	client := &http.Client{Jar: a.http.Jar, Timeout: 30 * time.Second}
	for _, h := range hubs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest(http.MethodGet, c.replicas[1].URL()+"/api/v1/portals/"+strconv.FormatInt(h, 10)+"/properties?refresh=1", nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("properties of %d: %v", h, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("properties of %d: %d", h, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
}
