package delivery_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// TestLaterSignupWinsWithinABatch: two signups for one email in the same
// batch become one contact write in which the later signup's values win;
// a field only the earlier one carried is kept. Both events are delivered
// to the same contact.
func TestLaterSignupWinsWithinABatch(t *testing.T) {
	for _, policy := range []string{"update", "skip", "fill_empty"} {
		t.Run(policy, func(t *testing.T) {
			env := apptest.Start(t, apptest.Options{})
			b := env.Install(1001, 501)
			src := b.CreateSource(1001, "Main")
			b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "last_name", "lastname"), nil, policy)
			apptest.PostMany(t, src.WebhookURL, [][]byte{
				[]byte(`{"email":"twice@example.com","first_name":"Earlier","last_name":"Only-earlier"}`),
				[]byte(`{"email":"twice@example.com","first_name":"Later"}`),
			}, 1)
			env.Sim.ResetLog()
			env.Drain(context.Background())

			c, ok := env.Sim.ContactByEmail(1001, "twice@example.com")
			require.True(t, ok)
			assert.Equal(t, "Later", c.Properties["firstname"], "the later signup wins")
			assert.Equal(t, "Only-earlier", c.Properties["lastname"], "what only the earlier one said is kept")
			assert.Len(t, env.Sim.Contacts(1001), 1)
			for _, r := range env.Sim.Requests() {
				if r.Endpoint == "contacts.batch.upsert" || r.Endpoint == "contacts.batch.create" {
					assert.Equal(t, 1, r.Inputs, "one input for the email")
				}
			}
			evs := b.Activity(src.ID, "?status=delivered")
			require.Len(t, evs, 2)
			assert.Equal(t, evs[0].ContactID, evs[1].ContactID)
			assert.Equal(t, c.ID, evs[0].ContactID)
		})
	}
}

// TestFillEmptyTreatsBlankAsEmpty: under fill_empty a HubSpot value made of
// spaces only counts as empty (it shows as blank in HubSpot and holds
// nothing a person entered), so it is filled; any other value is kept as
// it is, surrounding spaces included.
func TestFillEmptyTreatsBlankAsEmpty(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	b.SetMapping(src.ID, apptest.Fields("email", "email", "first_name", "firstname", "last_name", "lastname", "company", "company"), nil, "fill_empty")
	env.Sim.SeedContact(1001, map[string]string{"email": "blank@example.com", "firstname": "   ", "lastname": "\t", "company": " Acme "})
	apptest.PostMany(t, src.WebhookURL, [][]byte{
		[]byte(`{"email":"blank@example.com","first_name":"New","last_name":"Sent","company":"Other"}`),
	}, 1)
	env.Drain(context.Background())

	c, ok := env.Sim.ContactByEmail(1001, "blank@example.com")
	require.True(t, ok)
	assert.Equal(t, "New", c.Properties["firstname"], "spaces only: filled")
	assert.Equal(t, "Sent", c.Properties["lastname"], "a tab only: filled")
	assert.Equal(t, " Acme ", c.Properties["company"], "a value with spaces around it is a value")
	evs := b.Activity(src.ID, "?status=delivered")
	require.Len(t, evs, 1)
	assert.Equal(t, "filled", evs[0].Outcome)
}
