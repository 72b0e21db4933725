package hubspottest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	contactLabelsPath   = "/crm/associations/2026-03/contacts/contacts/labels"
	contactAssocCreate  = "/crm/associations/2026-03/contacts/contacts/batch/create"
	contactAssocRead    = "/crm/associations/2026-03/contacts/contacts/batch/read"
	dealContactDefault  = "/crm/associations/2026-03/deals/contacts/batch/associate/default"
	dealContactReadPath = "/crm/associations/2026-03/deals/contacts/batch/read"
)

type labelJSON struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

func (r response) labels(t *testing.T) []labelJSON {
	t.Helper()
	var out struct {
		Results []labelJSON `json:"results"`
	}
	r.decode(t, &out)
	return out.Results
}

// referralPair creates the "Referred by" / "Referrer" pair and returns the
// type ids of both directions.
func (e *env) referralPair(at string) (referredBy, referrer int) {
	e.t.Helper()
	res := e.postJSON(contactLabelsPath, at, map[string]string{"name": "referred_by", "label": "Referred by", "inverseLabel": "Referrer"})
	require.Equal(e.t, http.StatusOK, res.status, "body: %s", res.body)
	got := res.labels(e.t)
	require.Len(e.t, got, 2)
	return got[0].TypeID, got[1].TypeID
}

func assocInput(from, to string, category string, typeID int) map[string]any {
	return map[string]any{"from": map[string]string{"id": from}, "to": map[string]string{"id": to},
		"types": []map[string]any{{"associationCategory": category, "associationTypeId": typeID}}}
}

func TestAssociationLabels(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	before := e.get(contactLabelsPath, at).labels(t)
	require.Len(t, before, 1, "a portal starts with HubSpot's unlabeled contact-to-contact type")
	assert.Equal(t, labelJSON{Category: "HUBSPOT_DEFINED", TypeID: 449}, before[0])

	res := e.postJSON(contactLabelsPath, at, map[string]string{"name": "referred_by", "label": "Referred by", "inverseLabel": "Referrer"})
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	created := res.labels(t)
	require.Len(t, created, 2, "a pair has one type id per direction")
	assert.Equal(t, "USER_DEFINED", created[0].Category)
	assert.Equal(t, "Referred by", *created[0].Label)
	assert.Equal(t, "Referrer", *created[1].Label)
	assert.NotEqual(t, created[0].TypeID, created[1].TypeID)

	after := e.get(contactLabelsPath, at).labels(t)
	assert.ElementsMatch(t, append(before, created...), after)

	dup := e.postJSON(contactLabelsPath, at, map[string]string{"name": "referred_by", "label": "Referred by", "inverseLabel": "Referrer"})
	dup.apiError(t, http.StatusConflict, "CONFLICT")
	assert.Len(t, e.get(contactLabelsPath, at).labels(t), 3, "a repeated name creates nothing")

	for name, body := range map[string]any{
		"no name":    map[string]string{"label": "x"},
		"no label":   map[string]string{"name": "x"},
		"bad name":   map[string]string{"name": "Referred By", "label": "x"},
		"extra":      map[string]string{"name": "x", "label": "x", "category": "USER_DEFINED"},
		"wrong type": `{"name":"x","label":7}`,
	} {
		t.Run(name, func(t *testing.T) {
			e.postJSON(contactLabelsPath, at, body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
		})
	}
	unknown := e.get("/crm/associations/2026-03/widgets/contacts/labels", at)
	require.Equal(t, http.StatusBadRequest, unknown.status)
	assert.Equal(t, "Unable to infer object type from: widgets", unknown.obj(t)["message"])
	assert.NotContains(t, unknown.obj(t), "category", "HubSpot sends no category here")
}

func TestAssociateContactsWithLabels(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	referredBy, referrer := e.referralPair(at)
	ref := e.s.SeedContact(hubAcme, map[string]string{"email": "ref@x.test"})
	lead1 := e.s.SeedContact(hubAcme, map[string]string{"email": "l1@x.test"})
	lead2 := e.s.SeedContact(hubAcme, map[string]string{"email": "l2@x.test"})

	res := e.postJSON(contactAssocCreate, at, inputs(
		assocInput(lead1.ID, ref.ID, "USER_DEFINED", referredBy),
		assocInput(lead2.ID, ref.ID, "USER_DEFINED", referredBy),
		assocInput(lead2.ID, "777", "USER_DEFINED", referredBy),
		assocInput(lead1.ID, lead1.ID, "USER_DEFINED", referredBy),
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	var b struct {
		Results []struct {
			FromObjectTypeID, FromObjectID, ToObjectTypeID, ToObjectID string
			Labels                                                     []string
		} `json:"results"`
		NumErrors int `json:"numErrors"`
		Errors    []struct {
			Category    string              `json:"category"`
			SubCategory string              `json:"subCategory"`
			Message     string              `json:"message"`
			Context     map[string][]string `json:"context"`
		} `json:"errors"`
	}
	res.decode(t, &b)
	require.Len(t, b.Results, 2)
	assert.Equal(t, "0-1", b.Results[0].FromObjectTypeID)
	assert.Equal(t, lead1.ID, b.Results[0].FromObjectID)
	assert.Equal(t, ref.ID, b.Results[0].ToObjectID)
	assert.Equal(t, []string{"Referred by"}, b.Results[0].Labels)
	require.Equal(t, 2, b.NumErrors)
	assert.Equal(t, []string{"777"}, b.Errors[0].Context["toObjectId"], "the missing contact is named")
	assert.Contains(t, b.Errors[0].Message, "777")
	assert.Contains(t, b.Errors[1].Message, "itself")

	again := e.postJSON(contactAssocCreate, at, inputs(assocInput(lead1.ID, ref.ID, "USER_DEFINED", referredBy)))
	require.Equal(t, http.StatusOK, again.status, "associating twice is fine: body %s", again.body)

	read := e.postJSON(contactAssocRead, at, map[string]any{"inputs": []map[string]string{{"id": ref.ID}, {"id": lead1.ID}, {"id": "777"}}})
	require.Equal(t, http.StatusMultiStatus, read.status, "body: %s", read.body)
	var rb struct {
		Results []struct {
			From struct{ ID string } `json:"from"`
			To   []struct {
				ToObjectID       string      `json:"toObjectId"`
				AssociationTypes []labelJSON `json:"associationTypes"`
			} `json:"to"`
		} `json:"results"`
		Errors []struct {
			Category    string              `json:"category"`
			SubCategory string              `json:"subCategory"`
			Context     map[string][]string `json:"context"`
		} `json:"errors"`
	}
	read.decode(t, &rb)
	require.Len(t, rb.Results, 2)
	byFrom := map[string][]string{}
	for _, r := range rb.Results {
		for _, to := range r.To {
			var kinds []string
			for _, at := range to.AssociationTypes {
				if at.Label == nil {
					kinds = append(kinds, fmt.Sprint(at.Category, "/", at.TypeID))
				} else {
					kinds = append(kinds, *at.Label)
				}
			}
			byFrom[r.From.ID] = append(byFrom[r.From.ID], to.ToObjectID+":"+fmt.Sprint(kinds))
		}
	}
	assert.Equal(t, []string{
		lead1.ID + ":[HUBSPOT_DEFINED/449 Referrer]",
		lead2.ID + ":[HUBSPOT_DEFINED/449 Referrer]",
	}, byFrom[ref.ID], "the referrer sees its leads through the inverse label")
	assert.Equal(t, []string{ref.ID + ":[HUBSPOT_DEFINED/449 Referred by]"}, byFrom[lead1.ID])
	require.Len(t, rb.Errors, 1)
	assert.Equal(t, "OBJECT_NOT_FOUND", rb.Errors[0].Category)
	assert.Equal(t, []string{"777"}, rb.Errors[0].Context["fromObjectId"])
	_ = referrer
}

func TestAssociationBatchRefusals(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	referredBy, _ := e.referralPair(at)
	a := e.s.SeedContact(hubAcme, map[string]string{"email": "a@x.test"})
	b := e.s.SeedContact(hubAcme, map[string]string{"email": "b@x.test"})
	cases := []struct {
		name string
		body any
		want string
	}{
		{"unknown type id", inputs(assocInput(a.ID, b.ID, "USER_DEFINED", 999)), "is not defined from contacts to contacts"},
		{"wrong category", inputs(assocInput(a.ID, b.ID, "HUBSPOT_DEFINED", referredBy)), "is not defined"},
		{"bad category", inputs(assocInput(a.ID, b.ID, "MINE", referredBy)), "is not one of"},
		{"no types", inputs(map[string]any{"from": map[string]string{"id": a.ID}, "to": map[string]string{"id": b.ID}, "types": []any{}}), "[types]"},
		{"no from", inputs(map[string]any{"to": map[string]string{"id": b.ID}, "types": []map[string]any{{"associationCategory": "USER_DEFINED", "associationTypeId": referredBy}}}), "[from]"},
		{"no category", inputs(map[string]any{"from": map[string]string{"id": a.ID}, "to": map[string]string{"id": b.ID}, "types": []map[string]any{{"associationTypeId": referredBy}}}), "associationCategory"},
		{"numeric id", `{"inputs":[{"from":{"id":1},"to":{"id":"2"},"types":[]}]}`, "Invalid input JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.postJSON(contactAssocCreate, at, tc.body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Contains(t, body.Message, tc.want)
		})
	}
	t.Run("101 inputs", func(t *testing.T) {
		in := make([]map[string]any, 101)
		for i := range in {
			in[i] = assocInput(a.ID, b.ID, "USER_DEFINED", referredBy)
		}
		e.postJSON(contactAssocCreate, at, inputs(in...)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("1001 reads", func(t *testing.T) {
		in := make([]map[string]string, 1001)
		for i := range in {
			in[i] = map[string]string{"id": fmt.Sprint(i + 1)}
		}
		e.postJSON(contactAssocRead, at, map[string]any{"inputs": in}).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	})
	read := e.postJSON(contactAssocRead, at, map[string]any{"inputs": []map[string]string{{"id": a.ID}}})
	require.Equal(t, http.StatusMultiStatus, read.status, "nothing was linked: body %s", read.body)
}

func TestDefaultDealContactAssociation(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "lead@x.test"})
	d := e.s.SeedDeal(hubAcme, map[string]string{"dealname": "d", "dealstage": "appointmentscheduled"})
	res := e.postJSON(dealContactDefault, at, inputs(
		map[string]any{"from": map[string]string{"id": d.ID}, "to": map[string]string{"id": c.ID}},
		map[string]any{"from": map[string]string{"id": d.ID}, "to": map[string]string{"id": "404"}},
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	var b struct {
		Results []struct {
			From, To        struct{ ID string }
			AssociationSpec struct {
				AssociationCategory string
				AssociationTypeID   int
			}
		} `json:"results"`
		NumErrors int `json:"numErrors"`
	}
	res.decode(t, &b)
	require.Len(t, b.Results, 2, "both directions are answered")
	assert.Equal(t, d.ID, b.Results[0].From.ID)
	assert.Equal(t, c.ID, b.Results[0].To.ID)
	assert.Equal(t, 3, b.Results[0].AssociationSpec.AssociationTypeID, "deal to contact is HubSpot's type 3")
	assert.Equal(t, "HUBSPOT_DEFINED", b.Results[0].AssociationSpec.AssociationCategory)
	assert.Equal(t, 4, b.Results[1].AssociationSpec.AssociationTypeID, "contact to deal is type 4")
	assert.Equal(t, 1, b.NumErrors)

	read := e.postJSON(dealContactReadPath, at, map[string]any{"inputs": []map[string]string{{"id": d.ID}}})
	require.Equal(t, http.StatusOK, read.status, "body: %s", read.body)
	assert.Contains(t, string(read.body), `"toObjectId":"`+c.ID+`"`)

	contactToDeal := e.postJSON("/crm/associations/2026-03/contacts/deals/batch/read", at, map[string]any{"inputs": []map[string]string{{"id": c.ID}}})
	require.Equal(t, http.StatusOK, contactToDeal.status, "the association reads from the contact too: %s", contactToDeal.body)
	assert.Contains(t, string(contactToDeal.body), `"typeId":4`)

	e.postJSON("/crm/associations/2026-03/deals/deals/batch/associate/default", at, inputs(
		map[string]any{"from": map[string]string{"id": d.ID}, "to": map[string]string{"id": d.ID}},
	)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
}
