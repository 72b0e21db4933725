package hubspottest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dealCreatePath = "/crm/objects/2026-03/deals/batch/create"

// dealCreate is a traced batch/create input associating the deal with a
// record by HubSpot's default deal→contact type (3) unless types are given.
func dealCreate(trace, toID string, props map[string]string, types ...map[string]any) map[string]any {
	if len(types) == 0 {
		types = []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}}
	}
	assocs := []map[string]any{}
	if toID != "" {
		assocs = append(assocs, map[string]any{"to": map[string]string{"id": toID}, "types": types})
	}
	return map[string]any{"properties": props, "associations": assocs, "objectWriteTraceId": trace}
}

// TestDealBatchCreateWithAssociations: deals are created (201) with their
// association inline, readable from either side; a unique value another
// deal holds, or an earlier input of the batch, is a 409 CONFLICT for that
// input alone (207), naming the deal; so are an invalid value and an
// associated contact that does not exist (400 each).
func TestDealBatchCreateWithAssociations(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@x.test"})

	res := e.postJSON(dealCreatePath, at, inputs(
		dealCreate("t1", c.ID, map[string]string{"dealname": "Ann", "dealstage": "appointmentscheduled", "referral_code": "RF-1"})))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 1)
	d := b.Results[0]
	assert.Equal(t, "t1", d.ObjectWriteTraceID)
	assert.Equal(t, "RF-1", str(d.Properties["referral_code"]))
	assert.Equal(t, "default", str(d.Properties["pipeline"]))
	read := e.postJSON(dealContactReadPath, at, map[string]any{"inputs": []map[string]string{{"id": d.ID}}})
	require.Equal(t, http.StatusOK, read.status, "body: %s", read.body)
	assert.Contains(t, string(read.body), `"toObjectId":"`+c.ID+`"`, "associated inline")
	back := e.postJSON("/crm/associations/2026-03/contacts/deals/batch/read", at, map[string]any{"inputs": []map[string]string{{"id": c.ID}}})
	assert.Contains(t, string(back.body), `"typeId":4`, "and seen from the contact")

	res = e.postJSON(dealCreatePath, at, inputs(
		dealCreate("dup", c.ID, map[string]string{"dealname": "Ann again", "dealstage": "appointmentscheduled", "referral_code": "RF-1"}),
		dealCreate("new", c.ID, map[string]string{"dealname": "Bob", "dealstage": "appointmentscheduled", "referral_code": "RF-2"}),
		dealCreate("twin", c.ID, map[string]string{"dealname": "Bob twin", "dealstage": "appointmentscheduled", "referral_code": "RF-2"}),
		dealCreate("bad", c.ID, map[string]string{"dealname": "Cy", "dealstage": "appointmentscheduled", "amount": "lots"}),
		dealCreate("nobody", "999", map[string]string{"dealname": "Dee", "dealstage": "appointmentscheduled"}),
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	b = res.batch(t)
	require.Len(t, b.Results, 1)
	assert.Equal(t, "new", b.Results[0].ObjectWriteTraceID)
	require.Equal(t, 4, b.NumErrors)
	byTrace := map[string]string{}
	for _, er := range b.Errors {
		require.Len(t, er.Context["objectWriteTraceId"], 1)
		byTrace[er.Context["objectWriteTraceId"][0]] = er.Category
		if er.Context["objectWriteTraceId"][0] == "dup" {
			assert.Contains(t, er.Message, "Existing ID: "+d.ID)
		}
	}
	assert.Equal(t, map[string]string{"dup": "CONFLICT", "twin": "CONFLICT", "bad": "VALIDATION_ERROR", "nobody": "VALIDATION_ERROR"}, byTrace)
	assert.Len(t, e.s.Deals(hubAcme), 2, "only the valid new deal was added")
}

// TestDealBatchCreateRefusals: an untraced batch is all or nothing (the
// first duplicate: 409, nothing written); a malformed input, an
// association type not defined from deals, or a missing associations list
// fails the whole batch with 400; the deal scopes are required.
func TestDealBatchCreateRefusals(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	e.withReferralCode(at)
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@x.test"})
	e.postJSON(dealCreatePath, at, inputs(dealCreate("t1", c.ID, map[string]string{"dealname": "Ann", "dealstage": "appointmentscheduled", "referral_code": "RF-1"})))

	untracedIn := func(props map[string]string) map[string]any {
		in := dealCreate("", c.ID, props)
		delete(in, "objectWriteTraceId")
		return in
	}
	e.postJSON(dealCreatePath, at, inputs(
		untracedIn(map[string]string{"dealname": "New", "dealstage": "appointmentscheduled", "referral_code": "RF-9"}),
		untracedIn(map[string]string{"dealname": "Dup", "dealstage": "appointmentscheduled", "referral_code": "RF-1"}),
	)).apiError(t, http.StatusConflict, "CONFLICT")
	assert.Len(t, e.s.Deals(hubAcme), 1, "nothing of the batch was written")

	for name, in := range map[string]map[string]any{
		"type 4 is contact→deal": dealCreate("a", c.ID, map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"},
			map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}),
		"unknown category": dealCreate("a", c.ID, map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"},
			map[string]any{"associationCategory": "SOMETHING", "associationTypeId": 3}),
		"no type id": dealCreate("a", c.ID, map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"},
			map[string]any{"associationCategory": "HUBSPOT_DEFINED"}),
		"no associations": {"properties": map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"}, "objectWriteTraceId": "a"},
		"no properties":   {"associations": []any{}, "objectWriteTraceId": "a"},
	} {
		t.Run(name, func(t *testing.T) {
			e.postJSON(dealCreatePath, at, inputs(in)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
		})
	}
	assert.Len(t, e.s.Deals(hubAcme), 1)

	contactsOnly, _ := e.s.IssueTokens(hubAcme, userAdmin, []string{"oauth", "crm.objects.contacts.write"})
	e.postJSON(dealCreatePath, contactsOnly, inputs(dealCreate("a", c.ID, map[string]string{"dealname": "x", "dealstage": "appointmentscheduled"}))).
		apiError(t, http.StatusForbidden, "MISSING_SCOPES")
}
