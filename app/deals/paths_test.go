package deals_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
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

// testSecret keys the memory's hashes (the app derives it from its
// session secret).
var testSecret = []byte("deal-keys test secret")

// service is a deals.Service on a private Redis, with the simulator portal
// of servicePortal.
type service struct {
	*deals.Service
	rdb     *redis.Client
	sim     *hubspottest.Server
	p       *hubspot.Portal
	contact string
}

func newService(t *testing.T) *service {
	t.Helper()
	sim, p, contact := servicePortal(t)
	rdb := redis.NewClient(redistest.Options(t))
	require.NoError(t, rdb.FlushDB(context.Background()).Err())
	return &service{Service: deals.New(rdb, testSecret), rdb: rdb, sim: sim, p: p, contact: contact}
}

func (s *service) write(t *testing.T, api deals.API, ins ...deals.Input) (map[int]deals.Result, map[int]error) {
	t.Helper()
	done, failed, err := s.Write(context.Background(), hub, api, ins)
	require.NoError(t, err)
	return done, failed
}

func (s *service) count(ep string) int {
	return s.sim.Count(func(r hubspottest.Request) bool { return r.Endpoint == ep })
}

// associated lists the contacts HubSpot associates with a deal.
func (s *service) associated(t *testing.T, dealID string) []string {
	t.Helper()
	got, err := s.p.ReadAssociations(context.Background(), hubspot.ObjectDeals, hubspot.ObjectContacts, []string{dealID})
	require.NoError(t, err)
	var ids []string
	for _, o := range got[dealID] {
		ids = append(ids, o.ID)
	}
	return ids
}

// TestCreateRefusedFallsBack: a deal that exists in HubSpot though refhub
// never wrote it (another replica made it, or a salesperson's import set
// the key) is refused by the batch create; the deal then takes the way of
// a repeat: one deal, updated, not moved back from the stage a
// salesperson advanced it to, and associated with its contact. Beside it,
// a new deal is created and an invalid one is refused with HubSpot's
// reason.
func TestCreateRefusedFallsBack(t *testing.T) {
	s := newService(t)
	s.write(t, s.p, input(s.contact, "Warm-up")) // the key property exists
	require.NoError(t, s.rdb.FlushDB(context.Background()).Err())
	s.sim.ResetLog()
	existing := s.sim.SeedDeal(hub, map[string]string{deals.KeyProperty: "src_1/id:300", "dealname": "Old",
		"pipeline": "default", "dealstage": "contractsent"})
	require.NoError(t, s.rdb.Set(context.Background(), tenants.PortalKey(hub, "deals:keyprop"), "1", 0).Err())

	mk := func(key, name, amount string) deals.Input {
		in := input(s.contact, name)
		in.Key = key
		if amount != "" {
			in.Props = map[string]string{"dealname": name, "amount": amount}
		}
		return in
	}
	done, failed := s.write(t, s.p, mk("src_1/id:300", "Ann again", ""), mk("src_1/id:301", "Bob", ""), mk("src_1/id:302", "Cy", "lots"))

	assert.Equal(t, 1, s.count("deals.batch.create"), "one create for the three")
	assert.Equal(t, 1, s.count("deals.batch.read"), "the refused two are read")
	require.Len(t, done, 2)
	assert.Equal(t, existing.ID, done[0].DealID, "the deal HubSpot had")
	assert.False(t, done[0].Created)
	assert.True(t, done[1].Created)
	var ve *hubspot.ValidationError
	require.ErrorAs(t, failed[2], &ve, "the invalid amount is HubSpot's reason")
	assert.Equal(t, "amount", ve.Properties[0].Property)

	d, ok := s.sim.DealByProperty(hub, deals.KeyProperty, "src_1/id:300")
	require.True(t, ok)
	assert.Equal(t, "contractsent", d.Properties["dealstage"], "never moved back")
	assert.Equal(t, "Ann again", d.Properties["dealname"])
	assert.Len(t, s.sim.Deals(hub), 3, "the warm-up's, the existing one and Bob's")
	assert.Equal(t, []string{s.contact}, s.associated(t, existing.ID))
	assert.Equal(t, []string{s.contact}, s.associated(t, done[1].DealID), "associated inline")
}

// TestRememberedRepeatAndDeletedDeal: a key refhub wrote takes the way of
// a repeat (no create); when a salesperson deleted its deal in HubSpot,
// the repeat makes it again.
func TestRememberedRepeatAndDeletedDeal(t *testing.T) {
	s := newService(t)
	done, _ := s.write(t, s.p, input(s.contact, "Ann"))
	first := done[0].DealID
	s.sim.ResetLog()
	done, failed := s.write(t, s.p, input(s.contact, "Annie"))
	require.Empty(t, failed)
	assert.Equal(t, first, done[0].DealID)
	assert.Zero(t, s.count("deals.batch.create"), "a remembered key is not created")
	assert.Equal(t, 1, s.count("deals.batch.upsert"))

	require.NoError(t, s.sim.DeleteDeal(hub, first))
	done, failed = s.write(t, s.p, input(s.contact, "Ann"))
	require.Empty(t, failed)
	require.Len(t, s.sim.Deals(hub), 1)
	assert.NotEqual(t, first, done[0].DealID, "made again")
	assert.True(t, done[0].Created)
	assert.Equal(t, []string{s.contact}, s.associated(t, done[0].DealID))
}

// TestMemoryLost: with refhub's memory of written deals gone (Redis lost
// it), a repeat is created, refused by HubSpot, and still makes one deal.
func TestMemoryLost(t *testing.T) {
	s := newService(t)
	s.write(t, s.p, input(s.contact, "Ann"))
	require.NoError(t, s.rdb.Del(context.Background(), tenants.PortalKey(hub, "deals:written")).Err())
	s.sim.ResetLog()
	done, failed := s.write(t, s.p, input(s.contact, "Annie"))
	require.Empty(t, failed)
	assert.Equal(t, 1, s.count("deals.batch.create"), "tried, refused")
	require.Len(t, s.sim.Deals(hub), 1)
	assert.Equal(t, "Annie", s.sim.Deals(hub)[0].Properties["dealname"])
	assert.False(t, done[0].Created)
	s.sim.ResetLog()
	s.write(t, s.p, input(s.contact, "Annie"))
	assert.Zero(t, s.count("deals.batch.create"), "remembered again")
}

// TestKeyPropertyDeletedInHubSpot: an admin deleted refhub's key property
// in HubSpot: the next new deal's create and a repeat's read are refused
// for it; refhub creates the property again and retries once, and the
// deals are written instead of dead-lettered.
func TestKeyPropertyDeletedInHubSpot(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func(s *service) deals.Input
		call string
	}{
		{"new deal", func(s *service) deals.Input { in := input(s.contact, "Bob"); in.Key = "src_1/id:201"; return in }, "deals.batch.create"},
		{"repeat", func(s *service) deals.Input { return input(s.contact, "Annie") }, "deals.batch.read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			s.write(t, s.p, input(s.contact, "Ann"))
			s.sim.DeleteDealProperty(hub, deals.KeyProperty)
			s.sim.ResetLog()
			done, failed := s.write(t, s.p, tc.in(s))
			require.Empty(t, failed)
			require.Len(t, done, 1)
			assert.Equal(t, 1, s.count("deals.properties.create"), "recreated")
			assert.Equal(t, 2, s.count(tc.call), "refused, then retried once")
			d, ok := s.sim.DealByProperty(hub, deals.KeyProperty, tc.in(s).Key)
			require.True(t, ok)
			assert.Equal(t, done[0].DealID, d.ID)
			assert.Equal(t, tc.in(s).Props["dealname"], d.Properties["dealname"])
		})
	}
}

// TestKeyPropertyRefusedTwice: a portal that refuses the key property even
// after refhub recreated it gets one retry, then the deal fails with what
// to check (a dead letter; its contact is written), not an endless loop.
func TestKeyPropertyRefusedTwice(t *testing.T) {
	s := newService(t)
	s.write(t, s.p, input(s.contact, "Ann"))
	s.sim.DeleteDealProperty(hub, deals.KeyProperty)
	s.sim.ResetLog()
	in := input(s.contact, "Bob")
	in.Key = "src_1/id:201"
	done, failed := s.write(t, &propertyEater{Portal: s.p, sim: s.sim}, in)
	assert.Empty(t, done)
	var se *deals.SettingsError
	require.ErrorAs(t, failed[0], &se)
	assert.Equal(t, "DEAL_KEY_PROPERTY_REFUSED", se.Code)
	assert.Contains(t, se.Fix, deals.KeyProperty)
	assert.Equal(t, 1, s.count("deals.properties.create"), "recreated once")
	assert.Equal(t, 2, s.count("deals.batch.create"), "refused, retried once after the recreation")
	assert.Equal(t, 1, s.count("deals.batch.read"), "the way of a repeat, refused too: no second recreation")
}

// propertyEater is a portal whose admin deletes refhub's key property
// again as soon as it is created.
type propertyEater struct {
	*hubspot.Portal
	sim *hubspottest.Server
}

func (p *propertyEater) CreatePropertyOf(ctx context.Context, objectType string, prop hubspot.Property) (hubspot.Property, error) {
	out, err := p.Portal.CreatePropertyOf(ctx, objectType, prop)
	p.sim.DeleteDealProperty(hub, prop.Name)
	return out, err
}

// TestWholeBatchRefusedFallsBack: should HubSpot refuse a deal batch
// create as a whole (as it does a batch without per-input trace ids: 409
// for the first duplicate), every input takes the way of a repeat.
func TestWholeBatchRefusedFallsBack(t *testing.T) {
	s := newService(t)
	s.write(t, s.p, input(s.contact, "Ann"))
	require.NoError(t, s.rdb.Del(context.Background(), tenants.PortalKey(hub, "deals:written")).Err())
	bob := input(s.contact, "Bob")
	bob.Key = "src_1/id:201"
	done, failed := s.write(t, &wholeRefusal{s.p}, input(s.contact, "Annie"), bob)
	require.Empty(t, failed)
	require.Len(t, done, 2)
	assert.Len(t, s.sim.Deals(hub), 2)
	assert.True(t, done[1].Created)
	assert.Equal(t, []string{s.contact}, s.associated(t, done[1].DealID))
}

// wholeRefusal answers a deal batch create the way HubSpot answers one
// whose first input duplicates a unique value when the batch is not
// traced.
type wholeRefusal struct{ *hubspot.Portal }

func (wholeRefusal) CreateDeals(context.Context, string, []hubspot.DealCreateInput) (*hubspot.DealCreateResult, error) {
	return nil, &hubspot.ConflictError{APIError: &hubspot.APIError{StatusCode: 409, Category: "CONFLICT",
		Message: `A deal with refhub_referral_key "src_1/id:200" already exists. Existing ID: 20000000001`}, ExistingID: "20000000001"}
}

// TestMemoryHoldsNoAddress: a deal key holding an email (a referral known
// to Referral Factory only by its email) is remembered as a keyed hash: no
// address, nor the key, nor its plain hash is in Redis.
func TestMemoryHoldsNoAddress(t *testing.T) {
	s := newService(t)
	in := input(s.contact, "Ann")
	in.Key = deals.Key("src_1", "email:ann@example.com")
	done, _ := s.write(t, s.p, in)
	require.Len(t, done, 1)
	fields, err := s.rdb.HGetAll(context.Background(), tenants.PortalKey(hub, "deals:written")).Result()
	require.NoError(t, err)
	require.Len(t, fields, 1)
	plain := sha256.Sum256([]byte(in.Key))
	for f, v := range fields {
		assert.Regexp(t, `^[0-9a-f]{32}$`, f)
		assert.NotEqual(t, hex.EncodeToString(plain[:16]), f, "keyed: a guess of the key cannot be confirmed")
		assert.Equal(t, done[0].DealID, v)
	}
	keys, err := s.rdb.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		assert.NotContains(t, k, "ann@")
		if s.rdb.Type(context.Background(), k).Val() == "hash" {
			for f, v := range s.rdb.HGetAll(context.Background(), k).Val() {
				assert.False(t, strings.Contains(f+v, "ann@example.com"), "%s holds the address", k)
			}
		}
	}
	require.NoError(t, s.Purge(context.Background(), hub))
	assert.Zero(t, s.rdb.Exists(context.Background(), tenants.PortalKey(hub, "deals:written")).Val(), "purged with the portal")
}

// TestOutageFailsTheBatch: when HubSpot is down, Write reports an error for
// the whole batch (delivery retries it) and fails no input, so nothing is
// dead-lettered for an outage; nothing is remembered as written. Once
// HubSpot is back the same referral makes one deal, with its contact.
func TestOutageFailsTheBatch(t *testing.T) {
	s := newService(t)
	s.write(t, s.p, input(s.contact, "Warm-up")) // the key property exists
	require.NoError(t, s.sim.DeleteDeal(hub, s.sim.Deals(hub)[0].ID))
	require.NoError(t, s.rdb.Del(context.Background(), tenants.PortalKey(hub, "deals:written")).Err())

	s.sim.SetFaults(hubspottest.Faults{ErrorRate: 1, Statuses: []int{503}})
	in := input(s.contact, "Ann")
	in.Key = "src_1/id:400"
	done, failed, err := s.Write(context.Background(), hub, s.p, []deals.Input{in})
	var se *hubspot.ServerError
	require.ErrorAs(t, err, &se, "the batch is retried, not dead-lettered")
	assert.Empty(t, done)
	assert.Empty(t, failed)
	n, err := s.rdb.HLen(context.Background(), tenants.PortalKey(hub, "deals:written")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing remembered as written")

	s.sim.SetFaults(hubspottest.Faults{})
	done, failed = s.write(t, s.p, in)
	require.Empty(t, failed)
	require.Len(t, s.sim.Deals(hub), 1)
	assert.True(t, done[0].Created)
	assert.Equal(t, []string{s.contact}, s.associated(t, done[0].DealID))
}

// TestRedisDownFailsTheBatch: with Redis unreachable, Write reports an
// error for the whole batch (delivery retries it), fails no input and
// sends nothing to HubSpot.
func TestRedisDownFailsTheBatch(t *testing.T) {
	s := newService(t)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	s.sim.ResetLog()
	done, failed, err := deals.New(down, testSecret).Write(context.Background(), hub, s.p, []deals.Input{input(s.contact, "Ann")})
	require.Error(t, err)
	assert.Empty(t, done)
	assert.Empty(t, failed)
	assert.Zero(t, s.sim.Count(func(hubspottest.Request) bool { return true }), "no HubSpot call")
	assert.Empty(t, s.sim.Deals(hub))
}
