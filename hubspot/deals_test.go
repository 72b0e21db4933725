package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// withReferralCode creates the unique-value deal property through the client.
func (e *env) withReferralCode(ctx context.Context) {
	e.t.Helper()
	_, err := e.portal.CreatePropertyOf(ctx, hubspot.ObjectDeals, hubspot.Property{Name: "referral_code",
		Label: "Referral code", Type: "string", FieldType: "text", GroupName: "dealinformation", HasUniqueValue: true})
	require.NoError(e.t, err)
}

func TestUpsertDealsByUniqueProperty(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	e.withReferralCode(ctx)
	in := []hubspot.DealInput{
		{Key: "RF-1", Properties: map[string]string{"dealname": "Referral: Ann", "dealstage": "appointmentscheduled", "amount": "100"}},
		{Key: "RF-2", Properties: map[string]string{"dealname": "Referral: Bob", "dealstage": "qualifiedtobuy"}},
	}
	res, err := e.portal.UpsertDeals(ctx, "referral_code", in)
	require.NoError(t, err)
	require.Len(t, res.Deals, 2)
	assert.Empty(t, res.Failed)
	assert.True(t, res.Deals["RF-1"].New)
	assert.Equal(t, "Referral: Ann", res.Deals["RF-1"].Properties["dealname"])
	var sent struct {
		Inputs []map[string]any `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(e.rec.Last(t).Body, &sent))
	assert.Equal(t, "referral_code", sent.Inputs[0]["idProperty"])
	assert.Equal(t, "RF-1", sent.Inputs[0]["id"])

	again, err := e.portal.UpsertDeals(ctx, "referral_code", []hubspot.DealInput{
		{Key: "RF-1", Properties: map[string]string{"amount": "150"}},
		{Key: "RF-3", Properties: map[string]string{"dealname": "x", "dealstage": "not_a_stage"}},
		{Key: "RF-4", Properties: map[string]string{"dealname": "y", "dealstage": "qualifiedtobuy", "amount": "1,5"}},
	})
	require.NoError(t, err)
	require.Contains(t, again.Deals, "RF-1")
	assert.False(t, again.Deals["RF-1"].New, "the same key is the same deal")
	assert.Equal(t, res.Deals["RF-1"].ID, again.Deals["RF-1"].ID)
	require.Len(t, again.Failed, 2)
	var invalid *hubspot.ValidationError
	require.ErrorAs(t, again.Failed["RF-3"], &invalid)
	require.Len(t, invalid.Properties, 1)
	assert.Equal(t, hubspot.PropertyError{Code: "INVALID_OPTION", Property: "dealstage", Message: invalid.Properties[0].Message}, invalid.Properties[0])
	require.ErrorAs(t, again.Failed["RF-4"], &invalid)
	assert.Equal(t, "amount", invalid.Properties[0].Property)
	assert.Len(t, e.sim.Deals(hubAcme), 2, "refused inputs write nothing")

	_, err = e.portal.UpsertDeals(ctx, "dealname", in)
	require.ErrorAs(t, err, &invalid, "an idProperty without unique values fails the call")
	assert.Contains(t, invalid.Message, "non-unique")
}

func TestReadDeals(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	e.withReferralCode(ctx)
	up, err := e.portal.UpsertDeals(ctx, "referral_code", []hubspot.DealInput{
		{Key: "RF-9", Properties: map[string]string{"dealname": "nine", "dealstage": "contractsent"}}})
	require.NoError(t, err)
	id := up.Deals["RF-9"].ID

	byCode, err := e.portal.ReadDeals(ctx, "referral_code", []string{"RF-9", "RF-missing"}, []string{"dealstage"})
	require.NoError(t, err)
	require.Len(t, byCode, 1)
	assert.Equal(t, id, byCode["RF-9"].ID)
	assert.Equal(t, "contractsent", byCode["RF-9"].Properties["dealstage"])

	defaults, err := e.portal.ReadDeals(ctx, "referral_code", []string{"RF-9"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "nine", defaults["RF-9"].Properties["dealname"], "HubSpot's default properties plus the key")

	byID, err := e.portal.ReadDeals(ctx, "", []string{id, "1"}, []string{"dealname"})
	require.NoError(t, err)
	require.Len(t, byID, 1)
	assert.Equal(t, "nine", byID[id].Properties["dealname"])
}

func TestDealPropertiesAndPipelines(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	_, err := e.portal.CreateGroupOf(ctx, hubspot.ObjectDeals, hubspot.PropertyGroup{Name: "refhub", Label: "refhub"})
	require.NoError(t, err)
	groups, err := e.portal.ListGroupsOf(ctx, hubspot.ObjectDeals)
	require.NoError(t, err)
	assert.Contains(t, groups, hubspot.PropertyGroup{Name: "refhub", Label: "refhub", DisplayOrder: -1})
	_, err = e.portal.CreateGroupOf(ctx, hubspot.ObjectDeals, hubspot.PropertyGroup{Name: "refhub", Label: "refhub"})
	var conflict *hubspot.ConflictError
	assert.ErrorAs(t, err, &conflict)

	props, err := e.portal.ListPropertiesOf(ctx, hubspot.ObjectDeals)
	require.NoError(t, err)
	writable := map[string]bool{}
	for _, p := range props {
		writable[p.Name] = p.Writable()
	}
	assert.True(t, writable["dealname"])
	assert.False(t, writable["hs_object_id"])
	assert.False(t, writable["days_to_close"], "calculated")
	contactProps, err := e.portal.ListProperties(ctx)
	require.NoError(t, err)
	for _, p := range contactProps {
		assert.NotEqual(t, "dealname", p.Name)
	}

	added := e.sim.AddPipeline(hubAcme, hubspottest.Pipeline{Label: "Partners", Stages: []hubspottest.PipelineStage{
		{Label: "Introduced", Probability: 0.1}, {Label: "Signed", Probability: 1, Closed: true}}})
	pipes, err := e.portal.ListPipelines(ctx, hubspot.ObjectDeals)
	require.NoError(t, err)
	require.Len(t, pipes, 2)
	sales := pipes[0]
	assert.Equal(t, "default", sales.ID)
	won, ok := sales.Stage("closedwon")
	require.True(t, ok)
	assert.True(t, won.Closed())
	p, ok := won.Probability()
	assert.True(t, ok)
	assert.Equal(t, 1.0, p)
	first, _ := sales.Stage("appointmentscheduled")
	assert.False(t, first.Closed())
	assert.Equal(t, added.ID, pipes[1].ID)
	assert.Equal(t, "Signed", pipes[1].Stages[1].Label)
	_, ok = sales.Stage(added.Stages[0].ID)
	assert.False(t, ok, "stages belong to their pipeline")
}

func TestDealWritesNeedDealScopes(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.OptionalScopes = []string{"crm.objects.deals.read"} })
	_, err := e.portal.UpsertDeals(context.Background(), "referral_code", []hubspot.DealInput{{Key: "x"}})
	var scope *hubspot.ScopeError
	require.True(t, errors.As(err, &scope), "got %v", err)
	assert.Equal(t, []string{"crm.objects.deals.write"}, scope.RequiredScopes)
	assert.Equal(t, http.StatusForbidden, scope.StatusCode)
	_, err = e.portal.ReadDeals(context.Background(), "", []string{"1"}, nil)
	assert.NoError(t, err, "reading needs only the read scope")
}

// TestCreateDealsWithInlineAssociation: CreateDeals sends one batch create
// whose inputs carry their trace id and HubSpot's default deal→contact
// association (HUBSPOT_DEFINED 3), and reports created deals and refused
// inputs by trace id, typed.
func TestCreateDealsWithInlineAssociation(t *testing.T) {
	e := newEnv(t, withDealScopes)
	ctx := context.Background()
	e.withReferralCode(ctx)
	c := e.sim.SeedContact(hubAcme, map[string]string{"email": "ann@example.com"})
	res, err := e.portal.CreateDeals(ctx, "referral_code", []hubspot.DealCreateInput{
		{TraceID: "a", ContactID: c.ID, Properties: map[string]string{"dealname": "Ann", "dealstage": "appointmentscheduled", "referral_code": "RF-1"}},
		{TraceID: "b", Properties: map[string]string{"dealname": "Nobody's", "dealstage": "appointmentscheduled", "referral_code": "RF-2"}},
	})
	require.NoError(t, err)
	require.Len(t, res.Created, 2)
	assert.Empty(t, res.Failed)
	var sent struct {
		Inputs []struct {
			Properties   map[string]string `json:"properties"`
			Associations []struct {
				To    map[string]string `json:"to"`
				Types []map[string]any  `json:"types"`
			} `json:"associations"`
			Trace string `json:"objectWriteTraceId"`
		} `json:"inputs"`
	}
	last := e.rec.Last(t)
	assert.Equal(t, "/crm/objects/2026-03/deals/batch/create", last.Path)
	require.NoError(t, json.Unmarshal(last.Body, &sent))
	require.Len(t, sent.Inputs, 2)
	assert.Equal(t, "a", sent.Inputs[0].Trace)
	require.Len(t, sent.Inputs[0].Associations, 1)
	assert.Equal(t, c.ID, sent.Inputs[0].Associations[0].To["id"])
	assert.Equal(t, []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": float64(3)}}, sent.Inputs[0].Associations[0].Types)
	assert.NotNil(t, sent.Inputs[1].Associations, "an empty list, as the spec requires the field")
	assert.Empty(t, sent.Inputs[1].Associations)
	got, err := e.portal.ReadAssociations(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []string{res.Created["a"].ID})
	require.NoError(t, err)
	require.Len(t, got[res.Created["a"].ID], 1)

	again, err := e.portal.CreateDeals(ctx, "referral_code", []hubspot.DealCreateInput{
		{TraceID: "x", ContactID: c.ID, Properties: map[string]string{"dealname": "Ann", "dealstage": "appointmentscheduled", "referral_code": "RF-1"}},
		{TraceID: "y", ContactID: c.ID, Properties: map[string]string{"dealname": "Cy", "dealstage": "not_a_stage", "referral_code": "RF-3"}},
		{TraceID: "z", ContactID: c.ID, Properties: map[string]string{"dealname": "Dee", "dealstage": "appointmentscheduled", "referral_code": "RF-4"}},
	})
	require.NoError(t, err)
	assert.Len(t, again.Created, 1)
	assert.Contains(t, again.Created, "z")
	var conflict *hubspot.ConflictError
	require.ErrorAs(t, again.Failed["x"], &conflict)
	assert.Equal(t, res.Created["a"].ID, conflict.ExistingID, "the deal holding the key")
	var invalid *hubspot.ValidationError
	require.ErrorAs(t, again.Failed["y"], &invalid)
	assert.Equal(t, "dealstage", invalid.Properties[0].Property)
}
