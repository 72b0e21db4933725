package leads_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/internal/apptest"
)

// TestLeadBeforeReferrer: delivery is unordered; a lead whose referrer
// refhub has not delivered yet is written, waits, and is linked as soon
// as the referrer's contact exists. The wait survives a restart (it is in
// Redis) and is cleaned once linked.
func TestLeadBeforeReferrer(t *testing.T) {
	w := newWorld(t)
	w.send(lead(201, 100, "early@example.com", "E1", "", ""))
	w.drain()
	early := w.contact("early@example.com")
	assert.Empty(t, w.referredBy(early.ID), "no referrer to link to yet")
	n, err := w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the lead waits for its referrer")
	l, ok, err := w.env.App.Leads().ByContact(w.ctx, hub, early.ID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Empty(t, l.Referrer)

	w.send(referrer(100, "late-ref@example.com", "LATE", ""))
	w.drain()
	ref := w.contact("late-ref@example.com")
	assert.Equal(t, map[string][]string{early.ID: {ref.ID}}, w.referredBy(early.ID))
	c, _ := w.counts("late-ref@example.com")
	assert.Equal(t, "1", c)
	n, err = w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Zero(t, n, "a linked lead stops waiting")
	l, _, err = w.env.App.Leads().ByContact(w.ctx, hub, early.ID)
	require.NoError(t, err)
	assert.Equal(t, ref.ID, l.Referrer)
}

// TestLeadTwiceCountsOnce: the same lead arriving twice (a repeated
// webhook, and a later one with a changed field) is one referral, and its
// link costs one association call.
func TestLeadTwiceCountsOnce(t *testing.T) {
	w := newWorld(t)
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.drain()
	body := lead(201, 100, "twice@example.com", "T1", "ref@example.com", "REF1")
	w.send(body)
	w.drain()
	w.sendDuplicate(body)
	w.send(body[:len(body)-1] + `,"meta":[{"field":"Phone","value":"123"}]}`)
	w.drain()
	n, q := w.counts("ref@example.com")
	assert.Equal(t, "1", n)
	assert.Equal(t, "0", q)
	assert.Equal(t, 1, w.env.Calls("associations.batch.create"), "a lead linked already is not linked again")
}

// TestCountsNeverGoBack: counts come from Referral Factory's payload when
// it sends them and from refhub's tally otherwise, whichever is higher;
// an older payload arriving late does not lower them.
func TestCountsNeverGoBack(t *testing.T) {
	w := newWorld(t)
	w.send(referrer(100, "ref@example.com", "REF1", `,"referrals_count":5,"converted_referrals_count":2`))
	w.drain()
	n, q := w.counts("ref@example.com")
	require.Equal(t, "5", n)
	require.Equal(t, "2", q)

	// An older event of the same referrer, delivered after.
	w.send(referrer(100, "ref@example.com", "REF1", `,"referrals_count":3,"converted_referrals_count":1,"ip":"10.0.0.2"`))
	w.drain()
	n, q = w.counts("ref@example.com")
	assert.Equal(t, "5", n, "an older payload does not lower the count")
	assert.Equal(t, "2", q)

	// refhub's tally (1 lead) is below Referral Factory's count: kept at 5.
	w.send(lead(201, 100, "l1@example.com", "L1", "", ""))
	w.drain()
	n, _ = w.counts("ref@example.com")
	assert.Equal(t, "5", n)

	// A referrer whose payload carries no counts gets refhub's tally, which
	// only grows.
	w.send(referrer(300, "other@example.com", "OTH", ""))
	for i := range 2 {
		w.send(lead(400+i, 300, "o"+itoa(i)+"@example.com", "O"+itoa(i), "", ""))
	}
	w.drain()
	n, _ = w.counts("other@example.com")
	assert.Equal(t, "2", n)
	w.send(referrer(300, "other@example.com", "OTH", `,"referrals_count":0,"ip":"10.0.0.3"`))
	w.drain()
	n, _ = w.counts("other@example.com")
	assert.Equal(t, "2", n, "a payload count below the tally written does not lower it")
}

// TestMarkQualified: a lead qualified counts once on its referrer's
// converted count, whether the qualification helper or Referral Factory's
// own "A lead is qualified" webhook reports it first, and however often.
func TestMarkQualified(t *testing.T) {
	w := newWorld(t)
	w.referrerAndLeads(3)
	lds := w.env.App.Leads()

	first, err := lds.MarkQualified(w.ctx, hub, w.src.ID, "L0")
	require.NoError(t, err)
	assert.True(t, first)
	w.drain() // MarkQualified woke the portal's lane: the count is written
	n, q := w.counts("ref@example.com")
	assert.Equal(t, "3", n)
	assert.Equal(t, "1", q)

	first, err = lds.MarkQualified(w.ctx, hub, w.src.ID, "L0")
	require.NoError(t, err)
	assert.False(t, first, "qualified once")

	// Referral Factory reports L0 qualified through its webhook: not twice.
	w.send(`{"id":200,"referrer_id":100,"code":"L0","email":"lead0@example.com","type":"person_invited","qualified_at":"2026-03-10T10:00:00Z"}`)
	// …and L1, before the helper: the helper's call is then not the first.
	w.send(`{"id":201,"referrer_id":100,"code":"L1","email":"lead1@example.com","type":"person_invited","qualified_at":"2026-03-10T10:00:00Z"}`)
	w.drain()
	_, q = w.counts("ref@example.com")
	assert.Equal(t, "2", q)
	first, err = lds.MarkQualified(w.ctx, hub, w.src.ID, "L1")
	require.NoError(t, err)
	assert.False(t, first, "Referral Factory reported it first")
	w.drain()
	_, q = w.counts("ref@example.com")
	assert.Equal(t, "2", q)

	_, err = lds.MarkQualified(w.ctx, hub, w.src.ID, "")
	assert.Error(t, err, "a qualification names the lead's code")
}

// TestLinkFailures: association calls are classified like contact writes.
// A rate-limited association call keeps the batch queued (nothing is
// recorded delivered without its link) and it goes through once the
// window allows; a link HubSpot refuses on its own (the referrer's contact
// was deleted) dead-letters that lead with the reason, while its contact
// stays written.
func TestLinkFailures(t *testing.T) {
	w := newWorld(t)
	w.send(referrer(100, "ref@example.com", "REF1", ""))
	w.send(lead(200, 100, "first@example.com", "F1", "", ""))
	w.drain()
	ref := w.contact("ref@example.com")

	// HubSpot allows one call per 10 seconds: the contact write gets it,
	// the association call a 429.
	w.env.Sim.SetRateLimit(1, 10*time.Second)
	w.env.Clock.Advance(11 * time.Second)
	w.send(lead(201, 100, "limited@example.com", "R1", "", ""))
	w.env.Step(w.ctx)
	evs := w.b.Activity(w.src.ID, "?email=limited")
	require.Len(t, evs, 1)
	assert.Equal(t, "queued", evs[0].Status, "not delivered until linked")
	assert.Contains(t, evs[0].Reason, "rate limit")
	assert.GreaterOrEqual(t, w.env.RateLimited(), 1)

	w.env.Sim.SetRateLimit(100, 10*time.Second)
	w.drain()
	limited := w.contact("limited@example.com")
	assert.Equal(t, map[string][]string{limited.ID: {ref.ID}}, w.referredBy(limited.ID))
	assert.Equal(t, "delivered", w.b.Activity(w.src.ID, "?email=limited")[0].Status)

	// The referrer's contact is deleted in HubSpot; a new lead names it.
	require.NoError(t, w.env.Sim.GDPRDeleteContact(hub, ref.ID))
	w.send(lead(202, 100, "orphan@example.com", "O1", "", ""))
	w.drain()
	w.contact("orphan@example.com") // written
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Equal(t, "REFERRER_NOT_LINKED", dead[0].Code)
	assert.Contains(t, dead[0].Reason, "refused to link it to its referrer")

	// Replayed, it waits for the referrer, who signs up again.
	w.b.JSON(http.MethodPost, "/api/v1/sources/"+w.src.ID+"/dead-letters/replay", map[string]any{}, http.StatusOK, nil)
	w.drain()
	n, err := w.env.App.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	w.send(referrer(100, "ref@example.com", "REF1", `,"ip":"10.0.0.4"`))
	w.drain()
	back := w.contact("ref@example.com")
	orphan := w.contact("orphan@example.com")
	assert.Equal(t, map[string][]string{orphan.ID: {back.ID}}, w.referredBy(orphan.ID))
}

// TestWaitSurvivesRestart: a lead waiting for its referrer is kept in
// Redis, so another refhub process (a restart, or another replica) links
// it when the referrer arrives, using the label pair the first one created.
func TestWaitSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	w.send(lead(201, 100, "early@example.com", "E1", "", ""))
	w.send(lead(202, 300, "other@example.com", "O1", "", ""))
	w.send(referrer(300, "first-ref@example.com", "FIRST", ""))
	w.drain() // the first process creates the label pair linking other@ to its referrer

	restarted, err := app.New(w.env.Config, app.Options{Redis: w.env.Redis, Clock: w.env.Clock, Logger: apptest.TestLogger(t)})
	require.NoError(t, err)
	w.send(referrer(100, "late-ref@example.com", "LATE", ""))
	for {
		worked, _, err := restarted.Engine().RunOnce(w.ctx)
		require.NoError(t, err)
		if !worked {
			break
		}
	}
	assert.Equal(t, 1, w.env.Calls("associations.labels.create"), "the label pair is created once per portal")
	assert.Equal(t, 1, w.env.Calls("associations.labels.list"), "and looked up once: the restarted process reads it from Redis")
	early, ref := w.contact("early@example.com"), w.contact("late-ref@example.com")
	assert.Equal(t, map[string][]string{early.ID: {ref.ID}}, w.referredBy(early.ID))
	n, err := restarted.Leads().Pending(w.ctx, hub)
	require.NoError(t, err)
	assert.Zero(t, n)
}
