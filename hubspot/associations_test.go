package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// dealScopes are the scopes the deal and association calls need on top of
// the app's contact scopes.
var dealScopes = []string{"crm.objects.deals.read", "crm.objects.deals.write", "crm.schemas.deals.read", "crm.schemas.deals.write"}

func withDealScopes(o *hubspottest.Options) { o.OptionalScopes = dealScopes }

var referral = hubspot.LabelDefinition{Name: "referred_by", Label: "Referred by", InverseLabel: "Referrer"}

func TestEnsureAssociationLabelIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	require.NoError(t, err)
	assert.Equal(t, hubspot.CategoryUserDefined, first.Forward.Category)
	assert.Equal(t, "Referred by", first.Forward.Label)
	assert.Equal(t, "Referrer", first.Inverse.Label)
	assert.NotEqual(t, first.Forward.TypeID, first.Inverse.TypeID)

	again, err := e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	types, err := e.portal.ListAssociationTypes(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts)
	require.NoError(t, err)
	assert.Len(t, types, 3, "HubSpot's unlabeled type and one pair, not two")
	assert.Contains(t, types, hubspot.AssociationType{Category: hubspot.CategoryHubSpotDefined, TypeID: 449})
	creates := 0
	for _, r := range e.rec.Requests() {
		if r.Method == http.MethodPost {
			creates++
		}
	}
	assert.Equal(t, 1, creates, "the second call only reads")

	_, err = e.portal.CreateAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	var conflict *hubspot.ConflictError
	assert.ErrorAs(t, err, &conflict, "creating the same name again is a conflict")
}

func TestEnsureAssociationLabelAfterLosingTheRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := e.client.Portal(hubAcme, e.tokenFunc(), nil)
	_, err := other.CreateAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	require.NoError(t, err)
	// A replica that listed before the other created now creates: it must
	// read the pair back, not fail and not duplicate it.
	answers := 0
	flaky, _ := fakeHubSpot(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && answers == 0 {
			answers++
			respond(http.StatusOK, `{"results":[{"category":"HUBSPOT_DEFINED","typeId":449,"label":null}]}`)(w, r)
			return
		}
		e.sim.Handler().ServeHTTP(w, r)
	})
	pair, err := flaky.Portal(hubAcme, e.tokenFunc(), nil).EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	require.NoError(t, err)
	assert.Equal(t, "Referred by", pair.Forward.Label)

	renamed := hubspot.LabelDefinition{Name: "referred_by", Label: "Introduced by", InverseLabel: "Introducer"}
	_, err = e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, renamed)
	require.Error(t, err, "a name taken by other labels is reported, not papered over")
	assert.Contains(t, err.Error(), "renamed in HubSpot")
}

func TestCreateAssociationsReportsEachInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pair, err := e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, referral)
	require.NoError(t, err)
	ref := e.sim.SeedContact(hubAcme, map[string]string{"email": "ref@x.test"})
	var leads []hubspottest.Contact
	for i := range 3 {
		leads = append(leads, e.sim.SeedContact(hubAcme, map[string]string{"email": fmt.Sprintf("lead%d@x.test", i)}))
	}
	inputs := []hubspot.AssociationInput{
		{FromID: leads[0].ID, ToID: ref.ID, Types: []hubspot.AssociationType{pair.Forward}},
		{FromID: leads[1].ID, ToID: "424242", Types: []hubspot.AssociationType{pair.Forward}},
		{FromID: leads[2].ID, ToID: ref.ID, Types: []hubspot.AssociationType{pair.Forward}},
	}
	res, err := e.portal.CreateAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, inputs)
	require.NoError(t, err)
	require.Len(t, res.Linked, 2)
	assert.Equal(t, hubspot.LinkedPair{FromID: leads[0].ID, ToID: ref.ID, Labels: []string{"Referred by"}}, res.Linked[0])
	require.Len(t, res.Failed, 1)
	var invalid *hubspot.ValidationError
	assert.ErrorAs(t, res.Failed[1], &invalid, "the lead whose referrer is missing")

	got, err := e.portal.ReadAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, []string{ref.ID, leads[1].ID})
	require.NoError(t, err)
	assert.NotContains(t, got, leads[1].ID, "no association, no entry")
	require.Len(t, got[ref.ID], 2)
	for _, lead := range got[ref.ID] {
		assert.True(t, lead.HasType(hubspot.CategoryUserDefined, pair.Inverse.TypeID), "the referrer sees %s as referred", lead.ID)
		assert.True(t, lead.HasType(hubspot.CategoryHubSpotDefined, 449))
		assert.False(t, lead.HasType(hubspot.CategoryUserDefined, pair.Forward.TypeID))
	}

	_, err = e.portal.CreateAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts,
		[]hubspot.AssociationInput{{FromID: leads[0].ID, ToID: ref.ID, Types: []hubspot.AssociationType{{Category: hubspot.CategoryUserDefined, TypeID: 999}}}})
	assert.ErrorAs(t, err, &invalid, "an unknown type fails the batch")
	_, err = e.portal.CreateAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, make([]hubspot.AssociationInput, 101))
	assert.Error(t, err, "refused before any call")
}

func TestReadAssociationsFollowsPaging(t *testing.T) {
	calls := 0
	client, rec := fakeHubSpot(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch calls {
		case 1:
			respond(http.StatusOK, `{"status":"COMPLETE","results":[{"from":{"id":"1"},"to":[{"toObjectId":2,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":449,"label":null}]}],"paging":{"next":{"after":"MQ=="}}}],"startedAt":"x","completedAt":"y"}`)(w, r)
		default:
			respond(http.StatusOK, `{"status":"COMPLETE","results":[{"from":{"id":"1"},"to":[{"toObjectId":"3","associationTypes":[{"category":"USER_DEFINED","typeId":7,"label":"Referrer"}]}]}],"startedAt":"x","completedAt":"y"}`)(w, r)
		}
	})
	got, err := client.Portal(hubAcme, staticToken("t"), nil).ReadAssociations(context.Background(), hubspot.ObjectContacts, hubspot.ObjectContacts, []string{"1"})
	require.NoError(t, err)
	require.Len(t, got["1"], 2, "both pages, numeric and string ids alike")
	assert.Equal(t, "2", got["1"][0].ID)
	assert.Equal(t, "Referrer", got["1"][1].Types[0].Label)
	assert.JSONEq(t, `{"inputs":[{"id":"1","after":"MQ=="}]}`, string(rec.Last(t).Body))

	_, err = client.Portal(hubAcme, staticToken("t"), nil).ReadAssociations(context.Background(), hubspot.ObjectContacts, hubspot.ObjectContacts, nil)
	assert.Error(t, err)
}

func TestAssociateDealsWithContactsByDefault(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	c := e.sim.SeedContact(hubAcme, map[string]string{"email": "lead@x.test"})
	d := e.sim.SeedDeal(hubAcme, map[string]string{"dealname": "d", "dealstage": "appointmentscheduled"})
	res, err := e.portal.AssociateDefault(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []hubspot.ObjectPair{
		{FromID: d.ID, ToID: c.ID}, {FromID: d.ID, ToID: "31337"}})
	require.NoError(t, err)
	assert.Equal(t, []hubspot.LinkedPair{{FromID: d.ID, ToID: c.ID}}, res.Linked)
	require.Len(t, res.Failed, 1)
	assert.Error(t, res.Failed[1])

	got, err := e.portal.ReadAssociations(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []string{d.ID})
	require.NoError(t, err)
	require.Len(t, got[d.ID], 1)
	assert.Equal(t, c.ID, got[d.ID][0].ID)
	assert.True(t, got[d.ID][0].HasType(hubspot.CategoryHubSpotDefined, hubspot.TypeDealToContact))
}

func TestAssociationScopesAreTyped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	contactsOnly := e.client.Portal(hubAcme, e.tokenFunc(), nil)
	_, err := contactsOnly.AssociateDefault(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []hubspot.ObjectPair{{FromID: "1", ToID: "2"}})
	var scope *hubspot.ScopeError
	require.True(t, errors.As(err, &scope), "got %v", err)
	assert.Equal(t, []string{"crm.objects.deals.write"}, scope.RequiredScopes)
}

func TestAnInputHubSpotDoesNotMentionIsNotTakenForDone(t *testing.T) {
	client, _ := fakeHubSpot(t, respond(http.StatusOK, `{"status":"COMPLETE","results":[
		{"fromObjectTypeId":"0-1","fromObjectId":1,"toObjectTypeId":"0-1","toObjectId":2,"labels":["Referred by"]}],
		"startedAt":"x","completedAt":"y"}`))
	res, err := client.Portal(hubAcme, staticToken("t"), nil).CreateAssociations(context.Background(),
		hubspot.ObjectContacts, hubspot.ObjectContacts, []hubspot.AssociationInput{
			{FromID: "1", ToID: "2", Types: []hubspot.AssociationType{{Category: hubspot.CategoryUserDefined, TypeID: 1}}},
			{FromID: "3", ToID: "2", Types: []hubspot.AssociationType{{Category: hubspot.CategoryUserDefined, TypeID: 1}}},
		})
	require.NoError(t, err)
	assert.Equal(t, []hubspot.LinkedPair{{FromID: "1", ToID: "2", Labels: []string{"Referred by"}}}, res.Linked, "numeric ids are read too")
	require.Len(t, res.Failed, 1)
	assert.ErrorContains(t, res.Failed[1], "no result")
}

func TestEnsureAssociationLabelBetweenTwoObjectTypes(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	def := hubspot.LabelDefinition{Name: "referral_deal", Label: "Referral deal of", InverseLabel: "Referral deal"}
	first, err := e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, def)
	require.NoError(t, err)
	again, err := e.portal.EnsureAssociationLabel(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, def)
	require.NoError(t, err)
	assert.Equal(t, first, again, "found from both listings, not created twice")
	back, err := e.portal.ListAssociationTypes(ctx, hubspot.ObjectContacts, hubspot.ObjectDeals)
	require.NoError(t, err)
	assert.Contains(t, back, first.Inverse, "the inverse reads from contacts to deals")
	fwd, err := e.portal.ListAssociationTypes(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts)
	require.NoError(t, err)
	assert.NotContains(t, fwd, first.Inverse)
}

func TestEnsureAssociationLabelPassesOnARefusal(t *testing.T) {
	e := newEnv(t)
	_, err := e.portal.EnsureAssociationLabel(context.Background(), hubspot.ObjectContacts, hubspot.ObjectContacts,
		hubspot.LabelDefinition{Name: "Referred By", Label: "Referred by", InverseLabel: "Referrer"})
	var invalid *hubspot.ValidationError
	require.ErrorAs(t, err, &invalid, "HubSpot's refusal of the name, as it is")
	assert.NotContains(t, err.Error(), "renamed")
}
