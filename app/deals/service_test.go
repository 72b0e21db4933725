package deals_test

import (
	"context"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/internal/redistest"
	"github.com/refhub/refhub/tenants"
)

// servicePortal is a portal of the simulator with a contact, and a client
// for it holding the deal scopes.
func servicePortal(t *testing.T) (*hubspottest.Server, *hubspot.Portal, string) {
	sim := hubspottest.NewTestServer(t, hubspottest.Options{})
	sim.AddPortal(hubspottest.Portal{HubID: hub, Users: []hubspottest.User{{ID: 501, Email: "a@example.com"}}})
	c := sim.SeedContact(hub, map[string]string{"email": "ann@example.com"})
	access, _ := sim.IssueTokens(hub, 501, append([]string{"crm.objects.contacts.read"}, tenants.DealScopes...))
	p := hubspot.New(hubspot.Config{APIBase: sim.URL()}).Portal(hub, func(context.Context) (string, error) { return access, nil }, nil)
	return sim, p, c.ID
}

func input(contactID, name string) deals.Input {
	return deals.Input{Key: "src_1/id:200", ContactID: contactID, Policy: tenants.Update,
		Settings: &tenants.DealSettings{Pipeline: "default", Stage: "appointmentscheduled", Name: "x"},
		Props:    map[string]string{"dealname": name}}
}

// TestConcurrentWritersMakeOneDeal: two replicas (their own Redis state,
// so each creates the key property itself) write the same referral's deal
// at the same moment, many times: the upsert by the unique key keeps it
// one deal, associated once with its contact.
func TestConcurrentWritersMakeOneDeal(t *testing.T) {
	sim, p, contact := servicePortal(t)
	var wg sync.WaitGroup
	for i := range 2 {
		rdb := redis.NewClient(redistest.Options(t))
		rdb.FlushDB(context.Background())
		s := deals.New(rdb, testSecret)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				done, failed, err := s.Write(context.Background(), hub, p, []deals.Input{input(contact, "Ann")})
				assert.NoError(t, err)
				assert.Empty(t, failed)
				assert.Len(t, done, 1, "replica %d", i)
			}
		}()
	}
	wg.Wait()
	require.Len(t, sim.Deals(hub), 1)
	got, err := p.ReadAssociations(context.Background(), hubspot.ObjectDeals, hubspot.ObjectContacts, []string{sim.Deals(hub)[0].ID})
	require.NoError(t, err)
	assert.Len(t, got[sim.Deals(hub)[0].ID], 1)
}

// TestRepeatCosts: the first write creates the deal in one call (its
// association inline); a repeat of a key refhub remembers reads the deal
// and, unchanged, writes nothing but the (idempotent) association; the
// key property and the pipelines are asked for once.
func TestRepeatCosts(t *testing.T) {
	sim, p, contact := servicePortal(t)
	s := deals.New(redis.NewClient(redistest.Options(t)), testSecret)
	for range 3 {
		_, failed, err := s.Write(context.Background(), hub, p, []deals.Input{input(contact, "Ann")})
		require.NoError(t, err)
		require.Empty(t, failed)
	}
	count := func(ep string) int { return sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == ep }) }
	assert.Equal(t, 1, count("deals.properties.create"))
	assert.Equal(t, 1, count("deals.batch.create"), "the first write creates")
	assert.Equal(t, 1, count("pipelines.list"))
	assert.Equal(t, 2, count("deals.batch.read"), "the repeats read")
	assert.Equal(t, 0, count("deals.batch.upsert"), "an unchanged repeat writes nothing")
	assert.Equal(t, 2, count("associations.batch.default"))
	d := sim.Deals(hub)
	require.Len(t, d, 1)
	assert.Equal(t, "src_1/id:200", d[0].Properties[deals.KeyProperty])
}
