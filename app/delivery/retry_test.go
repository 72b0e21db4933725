package delivery_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
)

// TestWaitsAsLongAsHubSpotSays: after a 429 (or a 423/477 with
// Retry-After) the portal's lane waits exactly as long as HubSpot said —
// Retry-After when it sends one, else the rest of the announced window —
// and a signup arriving meanwhile does not end the wait early.
func TestWaitsAsLongAsHubSpotSays(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration // the simulator's announced rate window
		faults hubspottest.Faults
		want   time.Duration
		reason string
	}{
		{name: "429 without Retry-After: the announced window", window: 7 * time.Second,
			faults: hubspottest.Faults{ErrorRate: 1, Statuses: []int{http.StatusTooManyRequests}},
			want:   7 * time.Second, reason: "rate limit was reached; refhub pauses this portal for 7s"},
		{name: "429 with Retry-After", window: 10 * time.Second,
			faults: hubspottest.Faults{ErrorRate: 1, Statuses: []int{http.StatusTooManyRequests}, RetryAfter: 13 * time.Second},
			want:   13 * time.Second, reason: "pauses this portal for 13s"},
		{name: "477 with Retry-After, longer than the first backoff", window: 10 * time.Second,
			faults: hubspottest.Faults{ErrorRate: 1, Statuses: []int{477}},
			want:   5 * time.Second, reason: "MIGRATION_IN_PROGRESS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := apptest.NewClock()
			env := apptest.Start(t, apptest.Options{Clock: clock, Sim: hubspottest.Options{RateWindow: tc.window}})
			b := env.Install(1001, 501)
			src := b.CreateSource(1001, "Main")
			ctx := context.Background()
			apptest.PostMany(t, src.WebhookURL, apptest.Signups("wait", 5, ""), 1)
			env.Sim.SetFaults(tc.faults)
			require.True(t, env.Step(ctx))
			require.Equal(t, 1, env.Calls("contacts.batch.upsert"))
			env.Sim.SetFaults(hubspottest.Faults{})
			evs := b.Activity(src.ID, "?status=queued&limit=1")
			require.Len(t, evs, 1)
			assert.Contains(t, evs[0].Reason, tc.reason, "the activity says why and for how long")

			apptest.PostMany(t, src.WebhookURL, apptest.Signups("meanwhile", 1, ""), 1)
			worked, wait, err := env.App.Engine().RunOnce(ctx)
			require.NoError(t, err)
			assert.False(t, worked, "a new signup does not end the wait")
			assert.Equal(t, tc.want, wait, "the lane waits as long as HubSpot said")
			clock.Advance(wait - time.Millisecond)
			worked, _, err = env.App.Engine().RunOnce(ctx)
			require.NoError(t, err)
			assert.False(t, worked, "not a millisecond early")
			assert.Equal(t, 1, env.Calls("contacts.batch.upsert"))

			clock.Advance(time.Millisecond)
			require.True(t, env.Step(ctx))
			assert.Len(t, env.Sim.Contacts(1001), 6)
		})
	}
}

// TestRetryBackoffIsCapped: with the default backoff (1 s doubling, capped
// at 2 minutes) a 30-minute HubSpot outage is retried at most every 2
// minutes once the cap is reached, and a recovered HubSpot is called again
// within 2 minutes.
func TestRetryBackoffIsCapped(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	ctx := context.Background()
	outageEnds := clock.Now().Add(30 * time.Minute)
	env.Sim.SetFaults(hubspottest.Faults{OutageUntil: outageEnds})
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("capped", 3, ""), 1)
	env.DeliverUntil(ctx, time.Hour, "delivery after the outage", func() bool { return len(env.Sim.Contacts(1001)) == 3 })

	attempts := upsertTimes(env)
	require.Greater(t, len(attempts), 10)
	var longest time.Duration
	for i := 1; i < len(attempts); i++ {
		gap := attempts[i].Sub(attempts[i-1])
		longest = max(longest, gap)
		assert.LessOrEqual(t, gap, 2*time.Minute, "attempt %d: the backoff is capped at 2 minutes", i+1)
	}
	t.Logf("%d attempts over the 30-minute outage, longest gap %s", len(attempts), longest)
	assert.Greater(t, longest, time.Minute, "the backoff grew to its cap")
	assert.LessOrEqual(t, len(attempts), 40, "it backs off: 30 minutes at 1-2 minutes per attempt")
	assert.LessOrEqual(t, attempts[len(attempts)-1].Sub(outageEnds), 2*time.Minute, "HubSpot back: called again within the cap")
	assert.Empty(t, b.DeadLetters(src.ID))
}

// TestExhaustedRetriesAreDeadLettered: a batch HubSpot keeps refusing with
// 500 is retried for REFHUB_RETRY_FOR (1 h here), then every event goes to
// the dead letters with the reason, and the lane stops calling HubSpot; a
// replay once HubSpot is back delivers them.
func TestExhaustedRetriesAreDeadLettered(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Clock: clock, Configure: func(c *app.Config) { c.RetryFor = time.Hour }})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	ctx := context.Background()
	env.Sim.SetFaults(hubspottest.Faults{OutageUntil: clock.Now().Add(1000 * time.Hour)})
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("exhausted", 4, ""), 1)
	env.DeliverUntil(ctx, 2*time.Hour, "dead letters", func() bool { return len(b.DeadLetters(src.ID)) > 0 })

	attempts := upsertTimes(env)
	first, last := attempts[0], attempts[len(attempts)-1]
	assert.GreaterOrEqual(t, last.Sub(first), time.Hour, "retried for the whole retry window")
	assert.Less(t, last.Sub(first), time.Hour+2*time.Minute, "and given up at the first attempt after it")
	dead := b.DeadLetters(src.ID)
	require.Len(t, dead, 4, "every event of the batch")
	for _, d := range dead {
		assert.Equal(t, "failed", d.Status)
		assert.Equal(t, "RETRIES_EXHAUSTED", d.Code)
		assert.Contains(t, d.Reason, "HubSpot kept failing for 1h0m0s")
		assert.Contains(t, d.Reason, "500", "the last error is named")
		assert.Contains(t, d.Fix, "replay")
		assert.Equal(t, len(attempts), d.Attempts)
		require.NotNil(t, d.FirstFailure)
		assert.Equal(t, first, d.FirstFailure.Local())
	}
	assert.False(t, env.Step(ctx), "nothing is left to retry")
	assert.Len(t, upsertTimes(env), len(attempts))
	assert.Empty(t, b.Activity(src.ID, "?status=queued"))

	env.Sim.SetFaults(hubspottest.Faults{})
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/dead-letters/replay", nil, http.StatusOK, nil)
	env.Drain(ctx)
	assert.Len(t, env.Sim.Contacts(1001), 4)
	assert.Empty(t, b.DeadLetters(src.ID))
}

// upsertTimes returns when each batch upsert reached the simulator.
func upsertTimes(env *apptest.Env) []time.Time {
	var out []time.Time
	for _, r := range env.Sim.Requests() {
		if r.Endpoint == "contacts.batch.upsert" {
			out = append(out, r.Time)
		}
	}
	return out
}
