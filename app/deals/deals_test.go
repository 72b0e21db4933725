package deals_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/tenants"
)

// TestThreeLeadsThreeDeals: a referrer and three leads (one sent twice with
// a changed name) make three deals, in the chosen pipeline and stage, named
// from the template, with the mapped and default fields, each associated
// with its lead's contact; the referrer gets none (deals are for leads
// only). A salesperson's stage change survives a repeated signup.
func TestThreeLeadsThreeDeals(t *testing.T) {
	w := newWorld(t)
	var view struct {
		Deals *struct {
			CreateFor []string `json:"create_for"`
			Stage     string   `json:"stage"`
		} `json:"deals"`
	}
	require.NoError(t, json.Unmarshal(w.putDeals(settings("p-new"), http.StatusOK), &view))
	require.NotNil(t, view.Deals, "the source shows its deal settings")
	assert.Equal(t, []string{"lead"}, view.Deals.CreateFor)
	assert.Equal(t, "p-new", view.Deals.Stage)

	w.send(referrer(100, "ref@example.com", "REF1"))
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.send(lead(201, "Bob", "bob@example.com", "L1"))
	w.send(lead(202, "Cy", "cy@example.com", "L2"))
	w.drain()
	w.send(lead(200, "Annie", "ann@example.com", "L0")) // sent again, changed
	w.drain()

	require.Len(t, w.env.Sim.Deals(hub), 3, "one deal per lead, none for the referrer")
	names := map[int]string{200: "Annie", 201: "Bob", 202: "Cy"}
	emails := map[int]string{200: "ann@example.com", 201: "bob@example.com", 202: "cy@example.com"}
	var ids []string
	for id, first := range names {
		d, ok := w.dealOf(id)
		require.True(t, ok, "deal of lead %d", id)
		ids = append(ids, d.ID)
		assert.Equal(t, "partners", d.Properties["pipeline"])
		assert.Equal(t, "p-new", d.Properties["dealstage"])
		assert.Equal(t, "Referral: "+first+" (Spring)", d.Properties["dealname"], "named from the template")
		assert.Equal(t, first, d.Properties["description"], "mapped field")
		assert.Equal(t, "newbusiness", d.Properties["dealtype"], "default field")
		assert.Equal(t, "250", d.Properties["amount"])
		assert.Equal(t, []string{w.contact(emails[id]).ID}, w.contactsOf(d.ID)[d.ID], "associated with the lead's contact")
	}
	for _, ev := range w.b.Activity(w.src.ID, "") {
		assert.Equal(t, "delivered", ev.Status, ev.Email+": "+ev.Reason)
	}

	// A salesperson advances Bob's deal; Bob signs up again: the deal is
	// updated but stays where the salesperson put it.
	bob, _ := w.dealOf(201)
	require.NoError(t, w.env.Sim.MoveDealStage(hub, bob.ID, "p-talk"))
	w.send(lead(201, "Robert", "bob@example.com", "L1"))
	w.drain()
	bob, _ = w.dealOf(201)
	assert.Equal(t, "p-talk", bob.Properties["dealstage"], "never moved back")
	assert.Equal(t, "Referral: Robert (Spring)", bob.Properties["dealname"])
	assert.Len(t, w.env.Sim.Deals(hub), 3)
}

// TestStageMovesOnlyForward: when the source's starting stage is later
// than an existing deal's, a repeat moves the deal forward; a closed deal
// is never moved.
func TestStageMovesOnlyForward(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.send(lead(201, "Bob", "bob@example.com", "L1"))
	w.drain()
	bob, _ := w.dealOf(201)
	require.NoError(t, w.env.Sim.MoveDealStage(hub, bob.ID, "p-won"))

	w.putDeals(settings("p-talk"), http.StatusOK)
	w.send(lead(200, "Ann", "ann@example.com", "L0x"))
	w.send(lead(201, "Bob", "bob@example.com", "L1x"))
	w.drain()
	ann, _ := w.dealOf(200)
	bob, _ = w.dealOf(201)
	assert.Equal(t, "p-talk", ann.Properties["dealstage"], "moved forward")
	assert.Equal(t, "p-won", bob.Properties["dealstage"], "a closed deal stays closed")
}

// TestDealsForLeadsOnly: a source making deals for leads makes none for
// referrers, and one making them for referrers too makes theirs.
func TestDealsForLeadsOnly(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	w.send(referrer(100, "ref@example.com", "REF1"))
	w.drain()
	assert.Empty(t, w.env.Sim.Deals(hub))
	assert.NotEmpty(t, w.contact("ref@example.com").ID)

	s := settings("p-new")
	s["create_for"] = []string{"lead", "referrer"}
	w.putDeals(s, http.StatusOK)
	w.send(referrer(100, "ref@example.com", "REF2"))
	w.drain()
	d, ok := w.dealOf(100)
	require.True(t, ok)
	assert.Equal(t, "Referral: Ref (Spring)", d.Properties["dealname"])
}

// TestDealSettingsValidated: settings naming a pipeline or stage the
// portal lacks, or malformed, are refused with what to fix; nothing is
// saved.
func TestDealSettingsValidated(t *testing.T) {
	w := newWorld(t)
	s := settings("p-new")
	s["pipeline"] = "nope"
	assert.Contains(t, string(w.putDeals(s, http.StatusUnprocessableEntity)), `no deal pipeline \"nope\"`)
	s = settings("nope")
	body := string(w.putDeals(s, http.StatusUnprocessableEntity))
	assert.Contains(t, body, `has no stage \"nope\"`)
	assert.Contains(t, body, "p-new (New referral)", "the stages to choose from")
	s = settings("p-new")
	s["create_for"] = []string{"lead", "everyone"}
	s["fields"] = []map[string]string{{"from": "x", "to": "dealstage"}}
	s["name"] = ""
	body = string(w.putDeals(s, http.StatusUnprocessableEntity))
	assert.Contains(t, body, `\"everyone\" is neither`)
	assert.Contains(t, body, "dealstage cannot be mapped")
	assert.Contains(t, body, "name: give a deal name template")
	var view struct {
		Deals any `json:"deals"`
	}
	w.b.JSON(http.MethodGet, "/api/v1/sources/"+w.src.ID, nil, http.StatusOK, &view)
	assert.Nil(t, view.Deals, "nothing saved")

	w.putDeals(settings("p-new"), http.StatusOK)
	w.b.JSON(http.MethodDelete, "/api/v1/sources/"+w.src.ID+"/deals", nil, http.StatusOK, &view)
	assert.Nil(t, view.Deals, "deals turned off")
}

// TestBadStageDeadLetterAndReplay: a stage deleted in HubSpot after the
// settings were saved dead-letters the lead with the fix (its contact is
// written); once the settings name a stage that exists, a replay makes
// the deal.
func TestBadStageDeadLetterAndReplay(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-talk"), http.StatusOK)
	w.env.Sim.DeleteStage(hub, "partners", "p-talk")
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.drain()

	assert.Empty(t, w.env.Sim.Deals(hub))
	assert.NotEmpty(t, w.contact("ann@example.com").ID, "the contact is written")
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Equal(t, "DEAL_STAGE_UNKNOWN", dead[0].Code)
	assert.Contains(t, dead[0].Reason, `has no stage "p-talk"`)
	assert.Contains(t, dead[0].Fix, "deal settings")

	w.putDeals(settings("p-new"), http.StatusOK)
	w.b.JSON(http.MethodPost, "/api/v1/sources/"+w.src.ID+"/dead-letters/replay", map[string]any{}, http.StatusOK, nil)
	w.drain()
	d, ok := w.dealOf(200)
	require.True(t, ok, "replayed: the deal is made")
	assert.Equal(t, "p-new", d.Properties["dealstage"])
	assert.Empty(t, w.b.DeadLetters(w.src.ID))
}

// TestInvalidAmountDeadLetter: a deal HubSpot refuses (an amount that is
// not a number) dead-letters the lead with HubSpot's reason and the fix.
func TestInvalidAmountDeadLetter(t *testing.T) {
	w := newWorld(t)
	s := settings("p-new")
	s["defaults"] = map[string]string{"amount": "lots"}
	w.putDeals(s, http.StatusOK)
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.send(lead(201, "Bob", "bob@example.com", "L1"))
	w.drain()
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 2)
	for _, ev := range dead {
		assert.Equal(t, "amount", ev.Property)
		assert.Contains(t, ev.Reason, "its deal was refused")
		assert.Contains(t, ev.Reason, `"lots"`)
		assert.Contains(t, ev.Fix, "deal fields")
	}
	assert.Empty(t, w.env.Sim.Deals(hub))
}

// TestTwoReplicasOneDeal: two refhub processes each receive the same lead
// (Referral Factory retried it through another replica, with a field
// changed) and deliver at the same moment: one deal.
func TestTwoReplicasOneDeal(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	other, err := app.New(w.env.Config, app.Options{Redis: w.env.Redis, Clock: w.env.Clock, Logger: apptest.TestLogger(t)})
	require.NoError(t, err)
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.send(lead(200, "Anna", "ann@example.com", "L0"))
	var wg sync.WaitGroup
	for _, a := range []*app.App{w.env.App, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if worked, _, err := a.Engine().RunOnce(w.ctx); err != nil || !worked {
					return
				}
			}
		}()
	}
	wg.Wait()
	w.drain()
	require.Len(t, w.env.Sim.Deals(hub), 1)
	d, _ := w.dealOf(200)
	assert.Equal(t, "Referral: Anna (Spring)", d.Properties["dealname"], "the later signup's values")
}

// TestPortalInstalledBeforeDeals: a portal whose install granted only the
// contact scopes (refhub before deals) is told to reconnect to enable
// deals, cannot turn them on, and keeps receiving contacts; reconnecting
// enables them.
func TestPortalInstalledBeforeDeals(t *testing.T) {
	w := newWorld(t)
	old := []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write"}
	_, _, err := w.env.App.Store().Install(w.ctx, tenants.Installation{HubID: hub, Domain: "acme.hubspot.test", UserID: 501, UserEmail: "admin@acme.test", Scopes: old})
	require.NoError(t, err)
	var portal struct {
		Deals string `json:"deals"`
	}
	w.b.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &portal)
	assert.Equal(t, "reconnect to enable deals", portal.Deals)
	body := string(w.putDeals(settings("p-new"), http.StatusConflict))
	assert.Contains(t, body, "reconnect to enable deals")
	assert.Contains(t, body, "crm.objects.deals.write")

	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.drain()
	assert.NotEmpty(t, w.contact("ann@example.com").ID, "contacts keep flowing")
	assert.Empty(t, w.env.Sim.Deals(hub))

	w.b.Install(hub, 501) // reconnect: the install grants the deal scopes
	w.b.JSON(http.MethodGet, "/api/v1/portals/1001", nil, http.StatusOK, &portal)
	assert.Equal(t, "ready", portal.Deals)
	w.putDeals(settings("p-new"), http.StatusOK)
	w.send(lead(200, "Ann", "ann@example.com", "L0b"))
	w.drain()
	_, ok := w.dealOf(200)
	assert.True(t, ok)
}

// TestDealsNeedReconnectDeadLetter: a source making deals that sends to a
// portal without the deal scopes (its default portal changed to one
// installed before deals) writes the contact and dead-letters the deal
// with the fix, instead of stopping the portal's contacts.
func TestDealsNeedReconnectDeadLetter(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	old := []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write"}
	_, _, err := w.env.App.Store().Install(w.ctx, tenants.Installation{HubID: hub, Domain: "acme.hubspot.test", UserID: 501, UserEmail: "admin@acme.test", Scopes: old})
	require.NoError(t, err)
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.drain()
	assert.NotEmpty(t, w.contact("ann@example.com").ID)
	dead := w.b.DeadLetters(w.src.ID)
	require.Len(t, dead, 1)
	assert.Equal(t, "DEALS_NEED_RECONNECT", dead[0].Code)
	assert.Contains(t, dead[0].Fix, "Reconnect the portal")
}

// TestCallsPerReferral: 300 leads (new referrals naming their referrer)
// take three HubSpot calls per 100: the contacts' upsert, the referrer
// links, and one deal batch create with each deal's contact association
// inline — 0.03 per referral, beside the portal's one-time setup (the key
// property and the referrer label pair, made by the first batch).
func TestCallsPerReferral(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	w.send(referrer(100, "ref@example.com", "REF1"))
	w.drain()
	const n = 300
	var bodies [][]byte
	for i := range n {
		bodies = append(bodies, []byte(lead(1000+i, "P"+strconv.Itoa(i), "p"+strconv.Itoa(i)+"@example.com", "C"+strconv.Itoa(i))))
	}
	apptest.PostMany(t, w.src.WebhookURL, bodies, 8)
	w.env.Sim.ResetLog()
	w.drain()
	require.Len(t, w.env.Sim.Deals(hub), n)
	setup := w.env.Calls("deals.properties.create") + w.env.Calls("associations.labels.list") + w.env.Calls("associations.labels.create")
	calls := w.env.Sim.Count(func(r hubspottest.Request) bool { return !strings.HasPrefix(r.Endpoint, "oauth.") })
	perReferral := float64(calls-setup) / n
	byEndpoint := map[string]int{}
	for _, r := range w.env.Sim.Requests() {
		byEndpoint[r.Endpoint]++
	}
	t.Logf("HubSpot calls: %d for %d referrals (%d one-time setup; %.3f per referral), by endpoint: %v",
		calls, n, setup, perReferral, byEndpoint)
	assert.Equal(t, n/100, w.env.Calls("contacts.batch.upsert"), "one contact upsert per 100")
	assert.Equal(t, n/100, w.env.Calls("associations.batch.create"), "one referrer link call per 100")
	assert.Equal(t, n/100, w.env.Calls("deals.batch.create"), "one deal create per 100, associations inline")
	for _, ep := range []string{"deals.batch.read", "deals.batch.upsert", "associations.batch.default", "pipelines.list"} {
		assert.Zero(t, w.env.Calls(ep), "new referrals take no %s", ep)
	}
	assert.Equal(t, 3, setup, "the key property and the label pair (listed, then created), once per portal")
	assert.LessOrEqual(t, perReferral, 0.03)
	for i := range n {
		d, ok := w.dealOf(1000 + i)
		require.True(t, ok)
		assert.Equal(t, []string{w.contact("p" + strconv.Itoa(i) + "@example.com").ID}, w.contactsOf(d.ID)[d.ID])
		if i == 2 {
			break // the association is checked on a few; the count says the rest
		}
	}
}

// TestKeyPropertyDeletedEndToEnd: an admin deletes refhub's deal key
// property in HubSpot; a new lead and a repeat still get their deals (the
// property is created again), with no dead letter.
func TestKeyPropertyDeletedEndToEnd(t *testing.T) {
	w := newWorld(t)
	w.putDeals(settings("p-new"), http.StatusOK)
	w.send(lead(200, "Ann", "ann@example.com", "L0"))
	w.drain()
	w.env.Sim.DeleteDealProperty(hub, deals.KeyProperty)
	w.send(lead(200, "Annie", "ann@example.com", "L0"))
	w.send(lead(201, "Bob", "bob@example.com", "L1"))
	w.drain()
	assert.Empty(t, w.b.DeadLetters(w.src.ID))
	require.Len(t, w.env.Sim.Deals(hub), 2)
	ann, _ := w.dealOf(200)
	assert.Equal(t, "Referral: Annie (Spring)", ann.Properties["dealname"])
	_, ok := w.dealOf(201)
	assert.True(t, ok)
	assert.Equal(t, 2, w.env.Calls("deals.properties.create"), "created, then created again")
}
