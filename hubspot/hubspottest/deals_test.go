package hubspottest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

const (
	dealUpsertPath    = "/crm/objects/2026-03/deals/batch/upsert"
	dealReadPath      = "/crm/objects/2026-03/deals/batch/read"
	dealPropsPath     = "/crm/properties/2026-03/deals"
	dealGroupsPath    = "/crm/properties/2026-03/deals/groups"
	dealPipelinesPath = "/crm/pipelines/2026-03/deals"
)

// allScopes covers contacts, deals and their schemas.
var allScopes = []string{"oauth",
	"crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write",
	"crm.objects.deals.read", "crm.objects.deals.write", "crm.schemas.deals.read", "crm.schemas.deals.write"}

// dealToken issues a token with every scope the deal endpoints need.
func (e *env) dealToken(hub int64) string {
	e.t.Helper()
	user := map[int64]int64{hubAcme: userAdmin, hubGlobex: userGlobex}[hub]
	at, _ := e.s.IssueTokens(hub, user, allScopes)
	return at
}

// withReferralCode creates the unique-value deal property refhub keys on.
func (e *env) withReferralCode(at string) {
	e.t.Helper()
	res := e.postJSON(dealPropsPath, at, map[string]any{"name": "referral_code", "label": "Referral code",
		"type": "string", "fieldType": "text", "groupName": "dealinformation", "hasUniqueValue": true})
	require.Equal(e.t, http.StatusCreated, res.status, "body: %s", res.body)
}

// dealInput is a traced input: HubSpot then reports failures per input.
func dealInput(code string, props map[string]string) map[string]any {
	return map[string]any{"id": code, "idProperty": "referral_code", "properties": props, "objectWriteTraceId": "t-" + code}
}

// untraced drops the trace id: the batch is then all or nothing.
func untraced(in map[string]any) map[string]any {
	delete(in, "objectWriteTraceId")
	return in
}

func TestDealUpsertByUniqueProperty(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)

	res := e.postJSON(dealUpsertPath, at, inputs(dealInput("RF-1", map[string]string{
		"dealname": "Referral: Ann", "dealstage": "appointmentscheduled", "amount": "120.50"})))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 1)
	created := b.Results[0]
	assert.True(t, *created.New)
	assert.Equal(t, "RF-1", str(created.Properties["referral_code"]), "the id becomes the property value")
	assert.Equal(t, "default", str(created.Properties["pipeline"]), "a missing pipeline is the default one")
	assert.Equal(t, created.ID, str(created.Properties["hs_object_id"]))

	again := e.postJSON(dealUpsertPath, at, inputs(dealInput("RF-1", map[string]string{"dealname": "Referral: Ann B."}))).batch(t)
	require.Len(t, again.Results, 1)
	assert.False(t, *again.Results[0].New, "the same code updates the deal")
	assert.Equal(t, created.ID, again.Results[0].ID)
	deals := e.s.Deals(hubAcme)
	require.Len(t, deals, 1)
	assert.Equal(t, "Referral: Ann B.", deals[0].Properties["dealname"])
	assert.Equal(t, "appointmentscheduled", deals[0].Properties["dealstage"], "the stage is kept when not sent")
	assert.Equal(t, "120.50", deals[0].Properties["amount"])
	assert.Empty(t, e.s.Deals(hubGlobex), "another portal sees nothing")
}

func TestDealUpsertRefusesWhatHubSpotRefuses(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	stage := map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"}
	cases := []struct {
		name string
		body any
		want string
	}{
		{"non-unique idProperty", inputs(map[string]any{"id": "x", "idProperty": "dealname", "properties": stage}),
			"Unable to perform update/upsert by non-unique 0-3 property"},
		{"unknown idProperty", inputs(map[string]any{"id": "x", "idProperty": "nope", "properties": stage}),
			`Property "nope" does not exist`},
		{"no idProperty", inputs(map[string]any{"id": "x", "properties": stage}), "idProperty is required"},
		{"no properties", inputs(map[string]any{"id": "x", "idProperty": "referral_code"}), "[properties]"},
		{"duplicate ids", inputs(dealInput("A", stage), dealInput("A", stage)), "Duplicate IDs found in batch input: [A]"},
		{"empty batch", inputs(), "at least 1 input"},
		{"malformed", `{"inputs":[{"id":"A","idProperty":"referral_code","properties":{"amount":5}}]}`, "Invalid input JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.postJSON(dealUpsertPath, at, tc.body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Contains(t, body.Message, tc.want)
		})
	}
	t.Run("101 inputs", func(t *testing.T) {
		in := make([]map[string]any, 101)
		for i := range in {
			in[i] = dealInput(fmt.Sprint("C", i), stage)
		}
		body := e.postJSON(dealUpsertPath, at, inputs(in...)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
		assert.Contains(t, body.Message, "exceeds the maximum of 100")
	})
	assert.Empty(t, e.s.Deals(hubAcme), "a refused batch writes nothing")
}

func TestDealUpsertReportsInvalidInputsOneByOne(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	e.s.AddPipeline(hubAcme, hubspottest.Pipeline{Label: "Partners", Stages: []hubspottest.PipelineStage{
		{ID: "partner_new", Label: "New"}, {ID: "partner_won", Label: "Won", Closed: true, Probability: 1}}})
	ok := map[string]string{"dealname": "ok", "dealstage": "qualifiedtobuy"}
	res := e.postJSON(dealUpsertPath, at, inputs(
		dealInput("OK", ok),
		dealInput("BAD-STAGE", map[string]string{"dealname": "x", "dealstage": "no_such_stage"}),
		dealInput("WRONG-PIPE", map[string]string{"dealname": "x", "dealstage": "partner_new"}),
		dealInput("BAD-PIPE", map[string]string{"dealname": "x", "pipeline": "nope", "dealstage": "qualifiedtobuy"}),
		dealInput("BAD-AMOUNT", map[string]string{"dealname": "x", "dealstage": "qualifiedtobuy", "amount": "1,200"}),
		dealInput("NO-STAGE", map[string]string{"dealname": "x"}),
		map[string]any{"id": "T", "idProperty": "referral_code", "objectWriteTraceId": "trace-7",
			"properties": map[string]string{"dealname": "x", "dealstage": "qualifiedtobuy", "closedate": "tomorrow"}},
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 1)
	assert.Equal(t, "OK", str(b.Results[0].Properties["referral_code"]))
	assert.Equal(t, 6, b.NumErrors)
	want := map[string]struct{ prop, code string }{
		"BAD-STAGE":  {"dealstage", "INVALID_OPTION"},
		"WRONG-PIPE": {"dealstage", "INVALID_OPTION"},
		"BAD-PIPE":   {"pipeline", "INVALID_OPTION"},
		"BAD-AMOUNT": {"amount", "INVALID_INTEGER"},
		"NO-STAGE":   {"dealstage", "MISSING_REQUIRED_PROPERTY"},
		"T":          {"closedate", "INVALID_DATETIME"},
	}
	for _, be := range b.Errors {
		require.Len(t, be.Context["ids"], 1)
		id := be.Context["ids"][0]
		w, found := want[id]
		require.True(t, found, "unexpected error for %s", id)
		assert.Equal(t, "VALIDATION_ERROR", be.Category)
		is := issues(t, be.Message)
		require.Len(t, is, 1, id)
		assert.Equal(t, w.prop, is[0].Name, id)
		assert.Equal(t, w.code, is[0].Error, id)
		if id == "WRONG-PIPE" {
			assert.Contains(t, is[0].Message, "appointmentscheduled", "the allowed stages are those of the deal's pipeline")
			assert.NotContains(t, is[0].Message, "partner_won", "other pipelines' stages are not offered")
		}
		if id == "T" {
			assert.Equal(t, []string{"trace-7"}, be.Context["objectWriteTraceId"])
		}
	}
	assert.Len(t, e.s.Deals(hubAcme), 1, "only the valid input was written")

	moved := e.postJSON(dealUpsertPath, at, inputs(dealInput("OK", map[string]string{"pipeline": "partners_missing"}))).batch(t)
	require.Len(t, moved.Errors, 1, "moving to an unknown pipeline is refused")
	switched := e.postJSON(dealUpsertPath, at, inputs(dealInput("OK", map[string]string{"pipeline": e.s.Pipelines(hubAcme)[1].ID}))).batch(t)
	require.Len(t, switched.Errors, 1, "a new pipeline without one of its stages is refused")
	assert.Equal(t, "dealstage", issues(t, switched.Errors[0].Message)[0].Name)
}

func TestDealUniqueValuesStayUnique(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	res := e.postJSON(dealPropsPath, at, map[string]any{"name": "external_id", "label": "External id",
		"type": "string", "fieldType": "text", "groupName": "dealinformation", "hasUniqueValue": true})
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	stage := func(ext string) map[string]string {
		return map[string]string{"dealname": "x", "dealstage": "appointmentscheduled", "external_id": ext}
	}
	first := e.postJSON(dealUpsertPath, at, inputs(dealInput("A", stage("E-1")))).batch(t)
	require.Len(t, first.Results, 1)
	b := e.postJSON(dealUpsertPath, at, inputs(dealInput("B", stage("E-1")))).batch(t)
	require.Len(t, b.Errors, 1)
	assert.Equal(t, "CONFLICT", b.Errors[0].Category)
	assert.Contains(t, b.Errors[0].Message, "Existing ID: "+first.Results[0].ID)
	mismatch := e.postJSON(dealUpsertPath, at, inputs(dealInput("C", map[string]string{"referral_code": "D", "dealstage": "closedwon"}))).batch(t)
	require.Len(t, mismatch.Errors, 1, "a body value contradicting the id is refused")
	assert.Len(t, e.s.Deals(hubAcme), 1)

	whole := e.postJSON(dealUpsertPath, at, inputs(untraced(dealInput("F", stage("E-2"))), untraced(dealInput("G", stage("E-2")))))
	body := whole.apiError(t, http.StatusConflict, "CONFLICT")
	assert.Contains(t, body.Message, "Duplicate value in batch input", "two inputs of one batch cannot take one value")
	assert.Len(t, e.s.Deals(hubAcme), 1, "an all-or-nothing batch writes nothing")
}

func TestUntracedDealUpsertIsAllOrNothing(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	res := e.postJSON(dealUpsertPath, at, inputs(
		untraced(dealInput("OK", map[string]string{"dealname": "ok", "dealstage": "qualifiedtobuy"})),
		untraced(dealInput("BAD", map[string]string{"dealname": "x", "dealstage": "nope"})),
	))
	body := res.apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	is := issues(t, body.Message)
	require.Len(t, is, 1)
	assert.Equal(t, "INVALID_OPTION", is[0].Error)
	assert.Equal(t, "dealstage", is[0].Name)
	assert.Empty(t, e.s.Deals(hubAcme), "the valid input was not written either")

	ok := e.postJSON(dealUpsertPath, at, inputs(untraced(dealInput("OK", map[string]string{"dealname": "ok", "dealstage": "qualifiedtobuy"}))))
	require.Equal(t, http.StatusOK, ok.status, "body: %s", ok.body)
	assert.Empty(t, ok.batch(t).Results[0].ObjectWriteTraceID)
}

func TestDealUpsertByRecordID(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	d := e.s.SeedDeal(hubAcme, map[string]string{"dealname": "seeded", "dealstage": "qualifiedtobuy"})
	b := e.postJSON(dealUpsertPath, at, inputs(
		map[string]any{"id": d.ID, "idProperty": "hs_object_id", "properties": map[string]string{"dealstage": "closedwon"}, "objectWriteTraceId": "a"},
		map[string]any{"id": "999", "idProperty": "hs_object_id", "properties": map[string]string{"dealstage": "closedwon"}, "objectWriteTraceId": "b"},
	)).batch(t)
	require.Len(t, b.Results, 1)
	assert.False(t, *b.Results[0].New)
	assert.Equal(t, "true", str(b.Results[0].Properties["hs_is_closed"]))
	require.Len(t, b.Errors, 1, "an upsert by record id cannot create")
	assert.Equal(t, []string{"999"}, b.Errors[0].Context["ids"])
}

func TestDealRead(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	up := e.postJSON(dealUpsertPath, at, inputs(dealInput("R-1", map[string]string{"dealname": "one", "dealstage": "contractsent"}))).batch(t)
	id := up.Results[0].ID

	byID := e.postJSON(dealReadPath, at, map[string]any{"inputs": []map[string]string{{"id": id}, {"id": "12"}},
		"properties": []string{"dealstage", "referral_code", "amount"}, "propertiesWithHistory": []string{}})
	require.Equal(t, http.StatusMultiStatus, byID.status, "body: %s", byID.body)
	b := byID.batch(t)
	require.Len(t, b.Results, 1)
	assert.Equal(t, "contractsent", str(b.Results[0].Properties["dealstage"]))
	assert.Equal(t, "<nil>", str(b.Results[0].Properties["amount"]), "an unset requested property is null")
	require.Len(t, b.Errors, 1)
	assert.Equal(t, "OBJECT_NOT_FOUND", b.Errors[0].Category)
	assert.Contains(t, b.Errors[0].Message, "DEAL")
	assert.Equal(t, []string{"12"}, b.Errors[0].Context["ids"])

	byCode := e.postJSON(dealReadPath, at, map[string]any{"idProperty": "referral_code",
		"inputs": []map[string]string{{"id": "R-1"}}, "properties": []string{}, "propertiesWithHistory": []string{}})
	require.Equal(t, http.StatusOK, byCode.status, "body: %s", byCode.body)
	got := byCode.batch(t).Results
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].ID)
	assert.Equal(t, "one", str(got[0].Properties["dealname"]), "default properties come back")

	bad := e.postJSON(dealReadPath, at, map[string]any{"idProperty": "dealname", "inputs": []map[string]string{{"id": "one"}}})
	bad.apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
}

func TestDealPropertiesAndGroups(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	res := e.get(dealPropsPath, at)
	require.Equal(t, http.StatusOK, res.status)
	var list struct {
		Results []hubspottest.Property `json:"results"`
	}
	res.decode(t, &list)
	byName := map[string]hubspottest.Property{}
	for _, p := range list.Results {
		byName[p.Name] = p
	}
	for _, name := range []string{"dealname", "amount", "dealstage", "pipeline", "closedate", "hs_object_id"} {
		assert.Contains(t, byName, name)
	}
	assert.NotContains(t, byName, "email", "deal properties are not contact properties")
	assert.True(t, byName["hs_object_id"].ModificationMetadata.ReadOnlyValue)
	var stages []string
	for _, o := range byName["dealstage"].Options {
		stages = append(stages, o.Value)
	}
	assert.Equal(t, []string{"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
		"decisionmakerboughtin", "contractsent", "closedwon", "closedlost"}, stages)

	g := e.postJSON(dealGroupsPath, at, map[string]any{"name": "refhub", "label": "refhub"})
	require.Equal(t, http.StatusCreated, g.status, "body: %s", g.body)
	e.postJSON(dealGroupsPath, at, map[string]any{"name": "refhub", "label": "refhub"}).apiError(t, http.StatusConflict, "OBJECT_ALREADY_EXISTS")
	p := e.postJSON(dealPropsPath, at, map[string]any{"name": "referral_code", "label": "Referral code",
		"type": "string", "fieldType": "text", "groupName": "refhub", "hasUniqueValue": true})
	require.Equal(t, http.StatusCreated, p.status, "body: %s", p.body)
	var created hubspottest.Property
	p.decode(t, &created)
	assert.True(t, created.HasUniqueValue)
	e.postJSON(dealPropsPath, at, map[string]any{"name": "referral_code", "label": "again",
		"type": "string", "fieldType": "text", "groupName": "refhub"}).apiError(t, http.StatusConflict, "OBJECT_ALREADY_EXISTS")

	var contactNames []string
	for _, cp := range e.s.Properties(hubAcme) {
		contactNames = append(contactNames, cp.Name)
	}
	assert.NotContains(t, contactNames, "referral_code", "a deal property is not a contact property")
}
