package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app"
	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/oauth"
)

// seedExisting creates contacts that already exist in HubSpot.
func seedExisting(env *apptest.Env, hub int64, n int) {
	for i := 0; i < n; i++ {
		props := map[string]string{"email": fmt.Sprintf("user%d@example.com", i), "firstname": "Kept"}
		if i%2 == 0 {
			props["lastname"] = "Existing" // half have a last name, half do not
		}
		env.Sim.SeedContact(hub, props)
	}
}

// TestDuplicatePolicies: on a mix of new and existing contacts, each
// policy leaves every contact as it promises, with the calls README.md
// ("Duplicate policies") lists per batch.
func TestDuplicatePolicies(t *testing.T) {
	tests := []struct {
		policy string
		calls  map[string]int
		check  func(t *testing.T, c hubspottest.Contact, existed, hadLast bool)
	}{
		{"update", map[string]int{"contacts.batch.upsert": 1},
			func(t *testing.T, c hubspottest.Contact, existed, hadLast bool) {
				assert.Equal(t, "New", c.Properties["firstname"], "update overwrites mapped fields")
				assert.Equal(t, "Sent", c.Properties["lastname"])
			}},
		{"skip", map[string]int{"contacts.batch.read": 1, "contacts.batch.create": 1},
			func(t *testing.T, c hubspottest.Contact, existed, hadLast bool) {
				if existed {
					assert.Equal(t, "Kept", c.Properties["firstname"], "skip never modifies an existing contact")
					if hadLast {
						assert.Equal(t, "Existing", c.Properties["lastname"])
					} else {
						assert.Empty(t, c.Properties["lastname"])
					}
					return
				}
				assert.Equal(t, "New", c.Properties["firstname"])
			}},
		{"fill_empty", map[string]int{"contacts.batch.read": 1, "contacts.batch.create": 1, "contacts.batch.update": 1},
			func(t *testing.T, c hubspottest.Contact, existed, hadLast bool) {
				if existed {
					assert.Equal(t, "Kept", c.Properties["firstname"], "fill_empty never overwrites a value")
					if hadLast {
						assert.Equal(t, "Existing", c.Properties["lastname"])
					} else {
						assert.Equal(t, "Sent", c.Properties["lastname"], "fill_empty sets empty fields")
					}
					return
				}
				assert.Equal(t, "New", c.Properties["firstname"])
				assert.Equal(t, "Sent", c.Properties["lastname"])
			}},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			env := apptest.Start(t, apptest.Options{})
			b := env.Install(1001, 501)
			src := b.CreateSource(1001, "Main")
			b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "last_name", "lastname"), nil, tc.policy)
			seedExisting(env, 1001, 40)
			var bodies [][]byte
			for i := 0; i < 80; i++ { // user0..39 exist, user40..79 are new
				bodies = append(bodies, []byte(fmt.Sprintf(`{"email":"user%d@example.com","first_name":"New","last_name":"Sent"}`, i)))
			}
			apptest.PostMany(t, src.WebhookURL, bodies, 4)
			env.Sim.ResetLog()
			env.Drain(context.Background())

			for endpoint, want := range tc.calls {
				assert.Equal(t, want, env.Calls(endpoint), endpoint)
			}
			writes := env.Calls("contacts.batch.upsert") + env.Calls("contacts.batch.create") + env.Calls("contacts.batch.update")
			reads := env.Calls("contacts.batch.read")
			assert.Equal(t, sum(tc.calls), writes+reads, "no other contact calls")
			require.Len(t, env.Sim.Contacts(1001), 80)
			for i := 0; i < 80; i++ {
				c, ok := env.Sim.ContactByEmail(1001, fmt.Sprintf("user%d@example.com", i))
				require.True(t, ok)
				tc.check(t, c, i < 40, i < 40 && i%2 == 0)
			}
			evs := b.Activity(src.ID, "?status=delivered&limit=500")
			assert.Len(t, evs, 80)
			outcomes := map[string]int{}
			for _, ev := range evs {
				outcomes[ev.Outcome]++
				assert.NotEmpty(t, ev.ContactID)
			}
			switch tc.policy {
			case "update":
				assert.Equal(t, map[string]int{"created": 40, "updated": 40}, outcomes)
			case "skip":
				assert.Equal(t, map[string]int{"created": 40, "skipped": 40}, outcomes)
			case "fill_empty":
				assert.Equal(t, map[string]int{"created": 40, "filled": 20, "unchanged": 20}, outcomes)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestInvalidEmailsAreIsolated: 3 invalid emails in a batch of 100 do not
// hold up the other 97; they are dead-lettered with a reason naming the
// email problem, and delivered by a replay once the mapping is fixed.
func TestInvalidEmailsAreIsolated(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	bad := map[int]string{17: "not-an-email", 50: "jane@", 83: "joe@localhost"}
	var bodies [][]byte
	for i := 0; i < 100; i++ {
		email := fmt.Sprintf("ok%d@example.com", i)
		if v, ok := bad[i]; ok {
			email = v
		}
		bodies = append(bodies, []byte(fmt.Sprintf(`{"email":%q,"work_email":"fixed%d@example.com","first_name":"P%d"}`, email, i, i)))
	}
	apptest.PostMany(t, src.WebhookURL, bodies, 4)
	env.Drain(context.Background())

	assert.Len(t, env.Sim.Contacts(1001), 97, "the 97 valid signups are delivered")
	dead := b.DeadLetters(src.ID)
	require.Len(t, dead, 3)
	for _, d := range dead {
		assert.Equal(t, "failed", d.Status)
		assert.Equal(t, "INVALID_EMAIL", d.Code)
		assert.Equal(t, "email", d.Property)
		assert.Contains(t, d.Reason, "email address")
		assert.Contains(t, d.Reason, d.Email, "the reason quotes the address")
		assert.NotEmpty(t, d.Fix)
		assert.Equal(t, 1, d.Attempts)
		assert.NotNil(t, d.FirstFailure)
	}

	// The admin fixes the cause (the right field holds the email) and replays.
	b.SetMapping(src.ID, apptest.Fields("work_email", "email", "first_name", "firstname"), nil, "update")
	var replayed struct{ Replayed int }
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/dead-letters/replay", nil, http.StatusOK, &replayed)
	assert.Equal(t, 3, replayed.Replayed)
	env.Drain(context.Background())
	for i := range bad {
		_, ok := env.Sim.ContactByEmail(1001, fmt.Sprintf("fixed%d@example.com", i))
		assert.True(t, ok, "replayed signup %d delivered", i)
	}
	assert.Empty(t, b.DeadLetters(src.ID))
}

// TestUnknownPropertyDeadLettersOnlyItsEvents: a custom field mapped to a
// property the portal lacks fails only the events that carry the field,
// with the fix spelled out.
func TestUnknownPropertyDeadLettersOnlyItsEvents(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "referral_count", "referral_count"), nil, "update")
	var bodies [][]byte
	for i := 0; i < 10; i++ {
		extra := ""
		if i%5 == 0 {
			extra = `,"referral_count":"3"`
		}
		bodies = append(bodies, []byte(fmt.Sprintf(`{"email":"p%d@example.com"%s}`, i, extra)))
	}
	apptest.PostMany(t, src.WebhookURL, bodies, 1)
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 8)
	dead := b.DeadLetters(src.ID)
	require.Len(t, dead, 2)
	assert.Equal(t, "PROPERTY_DOESNT_EXIST", dead[0].Code)
	assert.Equal(t, "Property 'referral_count' does not exist in this portal: create the recommended properties or remap it.", dead[0].Reason)
	assert.Contains(t, dead[0].Fix, "recommended")
}

// TestRevokedTokenParksLane: after an uninstall the lane parks, the portal
// shows needs_reconnect, nothing is dropped; a new install delivers it all.
func TestRevokedTokenParksLane(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	env.Sim.Uninstall(1001)
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("parked", 30, ""), 4)
	env.Drain(context.Background())

	assert.Empty(t, env.Sim.Contacts(1001))
	portals := b.Portals()
	require.Len(t, portals, 1)
	assert.Equal(t, "needs_reconnect", portals[0].Status)
	assert.Contains(t, portals[0].StatusReason, "install refhub again")
	depth, _ := env.App.Queue().Depth(context.Background(), 1001)
	assert.Equal(t, int64(30), depth, "every event is kept")
	assert.Len(t, b.Activity(src.ID, "?status=queued"), 30)
	parked, _ := env.App.Queue().Parked(context.Background(), 1001)
	assert.True(t, parked)

	// More signups while disconnected are kept too, without calling HubSpot.
	env.Sim.ResetLog()
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("later", 5, ""), 1)
	env.Drain(context.Background())
	assert.Zero(t, env.Calls("contacts.batch.upsert")+env.Calls("oauth.token"), "a parked portal is not called")

	b.Install(1001, 501)
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 35)
	portals = b.Portals()
	assert.Equal(t, "connected", portals[0].Status)
}

// TestLaterSignupIsNotOverwrittenByReplay: a failed older signup replayed
// after a newer one for the same email was delivered does not overwrite it.
func TestLaterSignupIsNotOverwrittenByReplay(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "stage", "lifecyclestage"), nil, "update")
	status, _ := apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"x@example.com","first_name":"Old","stage":"bogus"}`))
	require.Equal(t, http.StatusAccepted, status)
	env.Drain(context.Background())
	require.Len(t, b.DeadLetters(src.ID), 1)
	assert.Equal(t, "INVALID_OPTION", b.DeadLetters(src.ID)[0].Code)

	status, _ = apptest.Post(t, src.WebhookURL, "application/json", []byte(`{"email":"x@example.com","first_name":"New","stage":"lead"}`))
	require.Equal(t, http.StatusAccepted, status)
	env.Drain(context.Background())
	c, _ := env.Sim.ContactByEmail(1001, "x@example.com")
	require.Equal(t, "New", c.Properties["firstname"])

	// Fix the cause (drop the stage field) and replay the old signup.
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname"), nil, "update")
	b.JSON(http.MethodPost, "/api/v1/sources/"+src.ID+"/dead-letters/replay", nil, http.StatusOK, nil)
	env.Drain(context.Background())
	c, _ = env.Sim.ContactByEmail(1001, "x@example.com")
	assert.Equal(t, "New", c.Properties["firstname"], "the older signup does not overwrite the newer one")
	evs := b.Activity(src.ID, "?email=x@example.com")
	require.Len(t, evs, 2)
	assert.Equal(t, "superseded", evs[1].Outcome, "the replayed older signup is marked superseded")
	_ = time.Second
}

// TestParkedLaneOfConnectedPortalResumes: a lane parked by a worker that
// raced with a reconnect is resumed by housekeeping, without a new signup.
func TestParkedLaneOfConnectedPortalResumes(t *testing.T) {
	env := apptest.Start(t, apptest.Options{AppOpts: app.Options{Delivery: delivery.Config{SweepEvery: 100 * time.Millisecond}}})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("race", 5, ""), 1)
	ctx := context.Background()
	lease, _, err := env.App.Queue().Claim(ctx, "stale-worker", 10*time.Second)
	require.NoError(t, err)
	require.NotNil(t, lease)
	require.NoError(t, env.App.Queue().Park(ctx, lease)) // decided on a stale portal status
	env.StartDelivery()
	apptest.Eventually(t, 10*time.Second, "the parked lane to resume", func() bool { return len(env.Sim.Contacts(1001)) == 5 })
}

// TestMixedPoliciesOnOneLane: two sources with different duplicate policies
// feed one portal; rounds take one policy at a time and the lane stays due
// until every event is delivered.
func TestMixedPoliciesOnOneLane(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	up := b.CreateSource(1001, "Updates")
	sk := b.CreateSource(1001, "Skips")
	b.SetMapping(sk.ID, apptest.Fields("email", "email", "first_name", "firstname"), nil, "skip")
	env.Sim.SeedContact(1001, map[string]string{"email": "s0@example.com", "firstname": "Kept"})
	for i := 0; i < 6; i++ {
		target := up.WebhookURL
		if i%2 == 1 {
			target = sk.WebhookURL
		}
		apptest.PostMany(t, target, [][]byte{[]byte(fmt.Sprintf(`{"email":"%s%d@example.com","first_name":"New"}`, map[bool]string{true: "s", false: "u"}[i%2 == 1], i/2))}, 1)
	}
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 6)
	c, _ := env.Sim.ContactByEmail(1001, "s0@example.com")
	assert.Equal(t, "Kept", c.Properties["firstname"], "the skip source left the existing contact alone")
	depth, _ := env.App.Queue().Depth(context.Background(), 1001)
	assert.Zero(t, depth)
}

// TestMissingScopeParksLane: HubSpot answering 403 MISSING_SCOPES (the
// install lacks a scope) parks the lane and tells the admin to reinstall;
// the reinstall delivers everything.
func TestMissingScopeParksLane(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	access, refresh := env.Sim.IssueTokens(1001, 501, []string{"oauth", "crm.objects.contacts.read", "crm.schemas.contacts.read"})
	// The installing user's grant, replaced by one without the write scope.
	require.NoError(t, env.App.Tokens().SaveGrant(context.Background(), 1001, oauth.Grantor{UserID: 501}, &hubspot.Token{AccessToken: access,
		RefreshToken: refresh, Expiry: time.Now().Add(30 * time.Minute)}))
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("scope", 3, ""), 1)
	env.Drain(context.Background())
	assert.Empty(t, env.Sim.Contacts(1001))
	portals := b.Portals()
	assert.Equal(t, "needs_reconnect", portals[0].Status)
	assert.Contains(t, portals[0].StatusReason, "crm.objects.contacts.write")
	b.Install(1001, 501)
	env.Drain(context.Background())
	assert.Len(t, env.Sim.Contacts(1001), 3)
}

// TestMissingScopeFailsOver: when HubSpot refuses the grant in use for a
// missing scope, delivery records whose grant failed and why, moves to
// another admin's working grant and delivers the batch; no lane parks.
func TestMissingScopeFailsOver(t *testing.T) {
	env := apptest.Start(t, apptest.Options{Portals: []hubspottest.Portal{{HubID: 1001, Domain: "acme.hubspot.test",
		Users: []hubspottest.User{{ID: 501, Email: "admin@acme.test"}, {ID: 502, Email: "second@acme.test"}}}}})
	b := env.Install(1001, 501)
	env.Install(1001, 502)
	src := b.CreateSource(1001, "Main")
	ctx := context.Background()
	// The grant in use loses the write scope (the first admin's, reinstalled narrower).
	access, refresh := env.Sim.IssueTokens(1001, 501, []string{"oauth", "crm.objects.contacts.read", "crm.schemas.contacts.read"})
	require.NoError(t, env.App.Tokens().SaveGrant(ctx, 1001, oauth.Grantor{UserID: 501, Email: "admin@acme.test"}, &hubspot.Token{AccessToken: access,
		RefreshToken: refresh, Expiry: time.Now().Add(30 * time.Minute)}))
	apptest.PostMany(t, src.WebhookURL, apptest.Signups("scope", 3, ""), 1)
	env.Drain(ctx)
	assert.Len(t, env.Sim.Contacts(1001), 3, "delivered with the second admin's grant")
	assert.Equal(t, "connected", b.Portals()[0].Status)
	grants, err := env.App.Tokens().Grants(ctx, 1001)
	require.NoError(t, err)
	require.Len(t, grants, 2)
	assert.Equal(t, int64(502), grants[0].UserID)
	assert.True(t, grants[0].InUse)
	assert.Equal(t, int64(501), grants[1].UserID)
	assert.False(t, grants[1].Working)
	assert.Contains(t, grants[1].Reason, "crm.objects.contacts.write")
	parked, err := env.App.Queue().ParkedLanes(ctx)
	require.NoError(t, err)
	assert.Empty(t, parked)
}
