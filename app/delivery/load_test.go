package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

// TestTenThousandSignupsAtTheRateLimit: 10,000 queued signups to one portal
// under policy update go out in at most 101 write calls, without a single
// 429, using every call the rate limit allows and none more. HubSpot's 110
// per 10 s (refhub: 100 per 10 s) is scaled to 11 per 1 s (refhub: 10 per
// 1 s). Time is simulated: the figure is refhub's use of the limit, not
// this machine's speed (refhub bench measures that).
func TestTenThousandSignupsAtTheRateLimit(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock,
		Sim:       hubspottest.Options{RateLimit: 11, RateWindow: time.Second},
		Configure: func(c *app.Config) { c.RateLimit, c.RateWindow = 10, time.Second },
	})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Flood")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("flood", 10000, `,"url":"https://rf.example/r/x"`), 8)
	env.Sim.ResetLog()

	start := clock.Now()
	env.DeliverUntil(context.Background(), time.Minute, "10,000 contacts", func() bool { return len(env.Sim.Contacts(1001)) == 10000 })
	elapsed := clock.Now().Sub(start)
	writes := env.Calls("contacts.batch.upsert")
	t.Logf("10,000 contacts in %s of simulated time: %.0f contacts/s (ceiling 1,000/s), %d write calls, %d answers 429",
		elapsed, 10000/elapsed.Seconds(), writes, env.RateLimited())
	assert.LessOrEqual(t, writes, 101)
	assert.Zero(t, env.RateLimited(), "refhub never provokes a 429")
	calls, busiest := crmCalls(env.Sim.Requests(), time.Second)
	assert.LessOrEqual(t, busiest, 10, "never more than refhub's 10 calls in any 1 s")
	assert.Equal(t, paced(calls, 10, time.Second), elapsed, "every call the limit allows is used, none is late")
	assert.Len(t, b.Activity(src.ID, "?status=queued"), 0)
}

// paced is when the last of n calls is due at max per window, the first
// ones going at once.
func paced(n, max int, window time.Duration) time.Duration {
	return time.Duration((n-1)/max) * window
}

// crmCalls counts the CRM calls (contacts and properties) the simulator
// saw, and the most of them in any window.
func crmCalls(reqs []hubspottest.Request, window time.Duration) (calls, busiest int) {
	var ts []time.Time
	for _, r := range reqs {
		if strings.HasPrefix(r.Endpoint, "contacts.") || strings.HasPrefix(r.Endpoint, "properties.") {
			ts = append(ts, r.Time)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	for i := range ts {
		n := sort.Search(len(ts), func(j int) bool { return !ts[j].Before(ts[i].Add(window)) }) - i
		busiest = max(busiest, n)
	}
	return len(ts), busiest
}

// TestHubSpotOutageRecovers: HubSpot answers 500 to everything for 30 s
// while signups keep arriving; the activity says why they wait, retries
// back off (new signups do not shorten it) up to the cap, nothing is
// dead-lettered, and everything is delivered once HubSpot is back.
func TestHubSpotOutageRecovers(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock,
		AppOpts: app.Options{Delivery: delivery.Config{BackoffBase: 500 * time.Millisecond, BackoffMax: 4 * time.Second}}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	ctx := context.Background()
	outageEnds := clock.Now().Add(30 * time.Second)
	env.Sim.SetFaults(hubspottest.Faults{OutageUntil: outageEnds})
	env.Sim.ResetLog()
	bodies := apptest.Signups("outage", 300, "")
	for i := 0; i < 30; i++ { // 10 signups every second of the outage
		apptest.PostMany(t, src.WebhookURL, bodies[10*i:10*(i+1)], 4)
		env.DeliverFor(ctx, time.Second)
		if i == 2 {
			evs := b.Activity(src.ID, "?status=queued&limit=1")
			require.Len(t, evs, 1)
			assert.Contains(t, evs[0].Reason, "500", "the activity explains why the signup waits")
		}
	}
	assert.Empty(t, env.Sim.Contacts(1001))
	env.DeliverUntil(ctx, time.Minute, "all 300 delivered after the outage", func() bool { return len(env.Sim.Contacts(1001)) == 300 })

	var failures []time.Time
	var firstSuccess time.Time
	for _, r := range env.Sim.Requests() {
		if r.Endpoint != "contacts.batch.upsert" {
			continue
		}
		if r.Status == http.StatusInternalServerError {
			failures = append(failures, r.Time)
		} else if firstSuccess.IsZero() {
			firstSuccess = r.Time
		}
	}
	t.Logf("HubSpot answered 500 %d times during the 30 s outage; first success %s after it ended",
		len(failures), firstSuccess.Sub(outageEnds))
	// Backoff 0.5 s doubling to the 4 s cap, jittered in its upper half:
	// 0.25-0.5, 0.5-1, 1-2, then 2-4 s. Signups every second do not
	// shorten it.
	require.GreaterOrEqual(t, len(failures), 9)
	assert.LessOrEqual(t, len(failures), 19, "retries back off")
	for i := 1; i < len(failures); i++ {
		gap := failures[i].Sub(failures[i-1])
		assert.LessOrEqual(t, gap, 4*time.Second, "attempt %d: the backoff is capped", i+1)
		if i >= 4 {
			assert.GreaterOrEqual(t, gap, 2*time.Second, "attempt %d: at the cap, jitter stays in its upper half", i+1)
		}
	}
	assert.False(t, firstSuccess.Before(outageEnds))
	assert.LessOrEqual(t, firstSuccess.Sub(outageEnds), 4*time.Second, "HubSpot back: called again within the cap")
	assert.Empty(t, b.DeadLetters(src.ID), "a transient outage dead-letters nothing")
	assert.Len(t, b.Activity(src.ID, "?status=delivered&limit=500"), 300)
}

// TestKilledWorkerProcess: a worker process killed with SIGKILL while a
// batch of its is at HubSpot loses nothing: another process takes over the
// lane once the lease expires and delivers every accepted signup. It runs
// real processes on real time: the lease expiring is the point.
func TestKilledWorkerProcess(t *testing.T) {
	t.Parallel()
	ropts := redistest.Options(t)
	env := apptest.Start(t, apptest.Options{Redis: ropts})
	ctx := context.Background()
	require.NoError(t, env.Redis.FlushDB(ctx).Err())
	redisURL := fmt.Sprintf("redis://%s/%d", ropts.Addr, ropts.DB)
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("killed", 250, ""), 4)
	env.Sim.SetFaults(hubspottest.Faults{Latency: 1500 * time.Millisecond})

	first := startWorker(t, env, redisURL, 2*time.Second)
	apptest.Eventually(t, 15*time.Second, "a batch of the worker to be at HubSpot", func() bool {
		for _, r := range env.Sim.InFlight() {
			if r.Endpoint == "contacts.batch.upsert" {
				return true
			}
		}
		return false
	})
	lease, err := env.Redis.HGet(ctx, "{lanes}:lease", "1001").Result()
	require.NoError(t, err, "the worker holds the lane's lease")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	delivered := len(b.Activity(src.ID, "?status=delivered&limit=500"))
	t.Logf("worker killed with a batch in flight (lease %s), %d of 250 signups recorded as delivered", lease, delivered)
	assert.Less(t, delivered, 250, "the kill interrupted delivery")
	depth, _ := env.App.Queue().Depth(ctx, 1001)
	assert.Positive(t, depth, "the batch in flight is still in the lane")

	env.Sim.SetFaults(hubspottest.Faults{})
	second := startWorker(t, env, redisURL, 2*time.Second)
	apptest.Eventually(t, 30*time.Second, "the second process to deliver everything", func() bool {
		return len(env.Sim.Contacts(1001)) == 250
	})
	_ = second.Process.Signal(syscall.SIGTERM)
	_ = second.Wait()
	apptest.Eventually(t, 5*time.Second, "activity all delivered", func() bool {
		return len(b.Activity(src.ID, "?status=delivered&limit=500")) == 250
	})
}

// TestFairness: portal A has a flood queued (a full batch every round);
// each signup of portal B is delivered after at most one more round of A,
// with a single worker. The engine is stepped on simulated time, where a
// round takes no time at all: the worst case, as A's lane and B's signal
// then fall in the same millisecond. B's hub id sorts after A's, so a tie
// would go to A.
func TestFairness(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock, Workers: 1,
		Sim:       hubspottest.Options{RateLimit: 100000, RateWindow: 10 * time.Second},
		Configure: func(c *app.Config) { c.RateLimit = 90000 }})
	a := env.Install(1001, 501)
	bb := env.Install(2002, 602)
	srcA := a.CreateSource(1001, "Flood")
	srcB := bb.CreateSource(2002, "Quiet")
	apptest.PostMany(t, srcA.WebhookURL, apptest.Signups("a", 3000, ""), 8)
	ctx := context.Background()
	env.Sim.ResetLog()

	rounds := func() []int64 { // the portal of each round so far
		var out []int64
		for _, r := range env.Sim.Requests() {
			if r.Endpoint == "contacts.batch.upsert" {
				out = append(out, r.HubID)
			}
		}
		return out
	}
	// B's signups arrive at different points after one of A's rounds:
	// at once, in the same millisecond A is due again, and later.
	for i, after := range []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 50 * time.Millisecond} {
		require.True(t, env.Step(ctx))
		require.Equal(t, int64(1001), rounds()[len(rounds())-1], "A works alone")
		clock.Advance(after)
		email := fmt.Sprintf("b%d@example.com", i)
		status, body := apptest.Post(t, srcB.WebhookURL, "application/json", []byte(`{"email":"`+email+`"}`))
		require.Equal(t, http.StatusAccepted, status, string(body))
		before := len(rounds())
		for !contactOf(env, 2002, email) {
			require.True(t, env.Step(ctx))
			require.LessOrEqual(t, len(rounds())-before, 3, "B's signup %d is never delivered", i)
		}
		after := rounds()[before:]
		require.Equal(t, int64(2002), after[len(after)-1])
		t.Logf("B's signup %d: %d round(s) of A before it", i, len(after)-1)
		assert.LessOrEqual(t, len(after)-1, 1, "B waits for at most one batch round of A")
	}
	depth, _ := env.App.Queue().Depth(ctx, 1001)
	assert.Positive(t, depth, "A had a full batch waiting throughout")
}

func contactOf(env *apptest.Env, hub int64, email string) bool {
	_, ok := env.Sim.ContactByEmail(hub, email)
	return ok
}

// TestFollowsAnnouncedLimit: when HubSpot announces a lower limit than
// refhub's configured one (X-HubSpot-RateLimit-Max and -Interval-
// Milliseconds), refhub follows it with its headroom (10 of 11 calls per
// 2 s) and never provokes a 429, on simulated time.
func TestFollowsAnnouncedLimit(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock, Sim: hubspottest.Options{RateLimit: 11, RateWindow: 2 * time.Second}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("announced", 3000, ""), 8)
	env.Sim.ResetLog()
	start := clock.Now()
	env.DeliverUntil(context.Background(), time.Minute, "3,000 contacts", func() bool { return len(env.Sim.Contacts(1001)) == 3000 })
	elapsed := clock.Now().Sub(start)
	t.Logf("3,000 contacts in %s of simulated time under an announced limit of 11 per 2 s (refhub configured for 100 per 10 s); %d answers 429",
		elapsed, env.RateLimited())
	assert.Zero(t, env.RateLimited())
	calls, busiest := crmCalls(env.Sim.Requests(), 2*time.Second)
	assert.LessOrEqual(t, busiest, 10, "10 of the announced 11 per 2 s")
	assert.Equal(t, paced(calls, 10, 2*time.Second), elapsed, "not slower than the announced limit requires")
}
