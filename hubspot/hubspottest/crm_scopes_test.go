package hubspottest_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// newEndpoints lists the endpoints added for leads and deals with a valid
// body, the scope a 403 names, and the scopes that each open it.
var newEndpoints = []struct {
	name, method, path, body, named string
	opens                           []string
}{
	{"deals.batch.upsert", http.MethodPost, dealUpsertPath, `{"inputs":[{"id":"1","idProperty":"hs_object_id","properties":{}}]}`,
		"crm.objects.deals.write", []string{"crm.objects.deals.write"}},
	{"deals.batch.read", http.MethodPost, dealReadPath, `{"inputs":[{"id":"1"}],"properties":[],"propertiesWithHistory":[]}`,
		"crm.objects.deals.read", []string{"crm.objects.deals.read"}},
	{"deals.properties.list", http.MethodGet, dealPropsPath, "",
		"crm.schemas.deals.read", []string{"crm.schemas.deals.read", "crm.objects.deals.read", "crm.objects.deals.write"}},
	{"deals.properties.create", http.MethodPost, dealPropsPath, `{"name":"x_prop","label":"X","type":"string","fieldType":"text","groupName":"dealinformation"}`,
		"crm.schemas.deals.write", []string{"crm.schemas.deals.write"}},
	{"deals.groups.list", http.MethodGet, dealGroupsPath, "",
		"crm.schemas.deals.read", []string{"crm.schemas.deals.read", "crm.objects.deals.read", "crm.objects.deals.write"}},
	{"deals.groups.create", http.MethodPost, dealGroupsPath, `{"name":"refhub","label":"refhub"}`,
		"crm.schemas.deals.write", []string{"crm.schemas.deals.write"}},
	{"pipelines.list", http.MethodGet, dealPipelinesPath, "",
		"crm.schemas.deals.read", []string{"crm.schemas.deals.read", "crm.objects.deals.read", "crm.objects.deals.write"}},
	{"associations.labels.list", http.MethodGet, contactLabelsPath, "",
		"crm.objects.contacts.read", []string{"crm.objects.contacts.read", "crm.objects.contacts.write"}},
	{"associations.labels.create", http.MethodPost, contactLabelsPath, `{"name":"x","label":"X"}`,
		"crm.objects.contacts.write", []string{"crm.objects.contacts.write"}},
	{"associations.batch.create", http.MethodPost, contactAssocCreate, `{"inputs":[{"from":{"id":"1"},"to":{"id":"2"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":449}]}]}`,
		"crm.objects.contacts.write", []string{"crm.objects.contacts.write"}},
	{"associations.batch.read", http.MethodPost, contactAssocRead, `{"inputs":[{"id":"1"}]}`,
		"crm.objects.contacts.read", []string{"crm.objects.contacts.read", "crm.objects.contacts.write"}},
	{"associations.batch.default", http.MethodPost, dealContactDefault, `{"inputs":[{"from":{"id":"1"},"to":{"id":"2"}}]}`,
		"crm.objects.deals.write", []string{"crm.objects.deals.write"}},
	{"contacts.gdpr-delete", http.MethodPost, "/crm/objects/2026-03/contacts/gdpr-delete", `{"objectId":"a@b.test","idProperty":"email"}`,
		"crm.objects.contacts.write", []string{"crm.objects.contacts.write"}},
}

func TestNewEndpointsNeedTheirScopes(t *testing.T) {
	e := newEnv(t)
	for _, ep := range newEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			var others []string
			for _, sc := range allScopes {
				if !slices.Contains(ep.opens, sc) {
					others = append(others, sc)
				}
			}
			at, _ := e.s.IssueTokens(hubAcme, userAdmin, others)
			res := e.call(ep.method, ep.path, at, ep.body)
			body := res.apiError(t, http.StatusForbidden, "MISSING_SCOPES")
			require.Len(t, body.Errors, 1)
			assert.Equal(t, []string{ep.named}, body.Errors[0].Context["requiredScopes"])
			assertRateHeaders(t, res)
			for _, sc := range ep.opens {
				only, _ := e.s.IssueTokens(hubAcme, userAdmin, []string{"oauth", sc})
				res := e.call(ep.method, ep.path, only, ep.body)
				assert.NotEqual(t, http.StatusForbidden, res.status, "%s alone opens it: %s", sc, res.body)
			}
			e.call(ep.method, ep.path, "", ep.body).apiError(t, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
		})
	}
}

func TestNewEndpointsShareTheRateLimit(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.RateLimit = len(newEndpoints) + 1 })
	at := e.dealToken(hubAcme)
	for _, ep := range newEndpoints {
		assert.NotEqual(t, http.StatusTooManyRequests, e.call(ep.method, ep.path, at, ep.body).status, ep.name)
	}
	require.Less(t, e.get(propsPath, at).status, 300, "one contact call is left in the window")
	res := e.postJSON(contactAssocRead, at, `{"inputs":[{"id":"1"}]}`)
	require.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Equal(t, "0", res.header.Get("X-HubSpot-RateLimit-Remaining"))
	assert.Equal(t, 1, e.s.Count(func(r hubspottest.Request) bool {
		return r.Status == http.StatusTooManyRequests && r.Endpoint == "associations.batch.read" && !r.Injected
	}))
}

func TestPipelines(t *testing.T) {
	e := newEnv(t)
	at := e.dealToken(hubAcme)
	type stage struct {
		ID       string            `json:"id"`
		Label    string            `json:"label"`
		Metadata map[string]string `json:"metadata"`
	}
	var list struct {
		Results []struct {
			ID, Label string
			CreatedAt string  `json:"createdAt"`
			Stages    []stage `json:"stages"`
		} `json:"results"`
	}
	e.get(dealPipelinesPath, at).decode(t, &list)
	require.Len(t, list.Results, 1)
	sales := list.Results[0]
	assert.Equal(t, "default", sales.ID)
	assert.Equal(t, "Sales Pipeline", sales.Label)
	assert.Equal(t, "1970-01-01T00:00:00.000Z", sales.CreatedAt, "default pipelines were created at 0")
	require.Len(t, sales.Stages, 7)
	assert.Equal(t, stage{ID: "closedwon", Label: "Closed Won", Metadata: map[string]string{"isClosed": "true", "probability": "1.0"}}, sales.Stages[5])
	assert.Equal(t, map[string]string{"isClosed": "false", "probability": "0.2"}, sales.Stages[0].Metadata)

	added := e.s.AddPipeline(hubAcme, hubspottest.Pipeline{Label: "Partners", Stages: []hubspottest.PipelineStage{
		{Label: "Introduced", Probability: 0.1}, {Label: "Signed", Probability: 1, Closed: true}}})
	require.NotEmpty(t, added.ID)
	require.Len(t, added.Stages, 2)
	e.get(dealPipelinesPath, at).decode(t, &list)
	require.Len(t, list.Results, 2)
	assert.Equal(t, added.ID, list.Results[1].ID)
	assert.Equal(t, added.Stages[1].ID, list.Results[1].Stages[1].ID)
	assert.Len(t, e.s.Pipelines(hubGlobex), 1, "pipelines belong to one portal")

	e.withReferralCode(at)
	res := e.postJSON(dealUpsertPath, at, inputs(dealInput("P-1", map[string]string{"dealname": "p",
		"pipeline": added.ID, "dealstage": added.Stages[0].ID})))
	require.Equal(t, http.StatusOK, res.status, "a deal can live in the new pipeline: %s", res.body)
	assert.Panics(t, func() {
		e.s.AddPipeline(hubAcme, hubspottest.Pipeline{ID: "default", Label: "x", Stages: []hubspottest.PipelineStage{{Label: "a"}}})
	})
	assert.Panics(t, func() { e.s.AddPipeline(hubAcme, hubspottest.Pipeline{Label: "no stages"}) })
}

func TestGDPRDelete(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	referredBy, _ := e.referralPair(at)
	lead := e.s.SeedContact(hubAcme, map[string]string{"email": "gone@x.test"})
	ref := e.s.SeedContact(hubAcme, map[string]string{"email": "ref@x.test"})
	require.Equal(t, http.StatusOK, e.postJSON(contactAssocCreate, at, inputs(assocInput(lead.ID, ref.ID, "USER_DEFINED", referredBy))).status)
	const gdpr = "/crm/objects/2026-03/contacts/gdpr-delete"

	res := e.postJSON(gdpr, at, map[string]string{"objectId": lead.ID})
	require.Equal(t, http.StatusNoContent, res.status, "body: %s", res.body)
	_, found := e.s.ContactByEmail(hubAcme, "gone@x.test")
	assert.False(t, found)
	read := e.postJSON(contactAssocRead, at, map[string]any{"inputs": []map[string]string{{"id": ref.ID}}})
	assert.Equal(t, http.StatusMultiStatus, read.status, "the deleted contact's associations are gone: %s", read.body)

	e.postJSON(gdpr, at, map[string]string{"objectId": lead.ID}).apiError(t, http.StatusNotFound, "OBJECT_NOT_FOUND")
	assert.Equal(t, http.StatusNoContent, e.postJSON(gdpr, at, map[string]string{"objectId": "never@x.test", "idProperty": "email"}).status,
		"an unknown email is accepted (HubSpot blocklists it)")
	assert.Equal(t, http.StatusNoContent, e.postJSON(gdpr, at, map[string]string{"objectId": "REF@x.test", "idProperty": "email"}).status)
	assert.Empty(t, e.s.Contacts(hubAcme))
	e.postJSON(gdpr, at, map[string]string{}).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	e.postJSON(gdpr, at, map[string]string{"objectId": "x", "idProperty": "firstname"}).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
}
