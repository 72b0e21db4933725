package hubspottest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// crmEndpoints lists every CRM endpoint with a minimal valid body and the scope it needs.
var crmEndpoints = []struct {
	name, method, path, body, scope string
}{
	{"contacts.batch.upsert", http.MethodPost, upsertPath, `{"inputs":[{"id":"a@b.com","idProperty":"email","properties":{}}]}`, "crm.objects.contacts.write"},
	{"contacts.batch.read", http.MethodPost, readPath, `{"idProperty":"email","inputs":[{"id":"a@b.com"}],"properties":["email"]}`, "crm.objects.contacts.read"},
	{"contacts.batch.create", http.MethodPost, createPath, `{"inputs":[{"properties":{"email":"c@d.com"}}]}`, "crm.objects.contacts.write"},
	{"contacts.batch.update", http.MethodPost, updatePath, `{"inputs":[{"id":"1","properties":{}}]}`, "crm.objects.contacts.write"},
	{"properties.list", http.MethodGet, propsPath, "", "crm.schemas.contacts.read"},
	{"properties.create", http.MethodPost, propsPath, `{"name":"x_prop","label":"X","type":"string","fieldType":"text","groupName":"contactinformation"}`, "crm.schemas.contacts.write"},
	{"groups.list", http.MethodGet, groupsPath, "", "crm.schemas.contacts.read"},
	{"groups.create", http.MethodPost, groupsPath, `{"name":"refhub","label":"Refhub"}`, "crm.schemas.contacts.write"},
}

func (e *env) call(method, path, token, body string) response {
	e.t.Helper()
	if method == http.MethodGet {
		return e.get(path, token)
	}
	return e.postJSON(path, token, body)
}

func assertRateHeaders(t *testing.T, res response) {
	t.Helper()
	for _, h := range []string{"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Interval-Milliseconds"} {
		assert.NotEmpty(t, res.header.Get(h), h)
	}
}

func TestCRMAuthentication(t *testing.T) {
	e := newEnv(t)
	for _, ep := range crmEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			res := e.call(ep.method, ep.path, "", ep.body)
			body := res.apiError(t, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
			assert.True(t, strings.HasPrefix(body.Message, "Authentication credentials not found."), body.Message)
			assertRateHeaders(t, res)

			e.call(ep.method, ep.path, "not-a-token", ep.body).apiError(t, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
			ok := e.call(ep.method, ep.path, e.token(hubAcme), ep.body)
			assert.Less(t, ok.status, 300, "body: %s", ok.body)
		})
	}
	t.Run("scheme must be Bearer", func(t *testing.T) {
		req := e.do(http.MethodGet, propsPath, "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, req.status)
		at := e.token(hubAcme)
		r, err := http.NewRequest(http.MethodGet, e.s.URL()+propsPath, nil)
		require.NoError(t, err)
		r.Header.Set("Authorization", "Basic "+at)
		res, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
}

func TestExpiredToken(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	cases := []struct {
		advance time.Duration
		want    string
	}{
		{30 * time.Minute, "expired 0 minute(s) ago"},
		{35 * time.Minute, "expired 5 minute(s) ago"},
		{5*time.Hour + 30*time.Minute, "expired 5 hour(s) ago"},
	}
	elapsed := time.Duration(0)
	for _, tc := range cases {
		e.clock.Advance(tc.advance - elapsed)
		elapsed = tc.advance
		res := e.get(propsPath, at)
		body := res.apiError(t, http.StatusUnauthorized, "EXPIRED_AUTHENTICATION")
		assert.Equal(t, "The OAuth token used to make this call "+tc.want+".", body.Message)
		assertRateHeaders(t, res)
	}
	assert.Equal(t, 3, e.s.Count(func(r hubspottest.Request) bool {
		return r.Category == "EXPIRED_AUTHENTICATION" && r.HubID == hubAcme
	}))
}

func TestMissingScopes(t *testing.T) {
	e := newEnv(t)
	for _, ep := range crmEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			var others []string
			for _, o := range crmEndpoints {
				if o.scope != ep.scope {
					others = append(others, o.scope)
				}
			}
			at, _ := e.s.IssueTokens(hubAcme, userAdmin, append([]string{"oauth"}, others...))
			res := e.call(ep.method, ep.path, at, ep.body)
			body := res.apiError(t, http.StatusForbidden, "MISSING_SCOPES")
			require.Len(t, body.Errors, 1)
			assert.Equal(t, []string{ep.scope}, body.Errors[0].Context["requiredScopes"])
			assertRateHeaders(t, res)

			only, _ := e.s.IssueTokens(hubAcme, userAdmin, []string{"oauth", ep.scope})
			assert.Less(t, e.call(ep.method, ep.path, only, ep.body).status, 300, "the one scope suffices")
		})
	}
}

func TestContentTypeMustBeJSON(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	for _, ep := range crmEndpoints {
		if ep.method != http.MethodPost {
			continue
		}
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
			res := e.do(http.MethodPost, ep.path, ct, at, strings.NewReader(ep.body))
			res.apiError(t, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
			assertRateHeaders(t, res)
		}
		res := e.do(http.MethodPost, ep.path, "application/json; charset=UTF-8", at, strings.NewReader(ep.body))
		assert.Less(t, res.status, 300, "%s: %s", ep.name, res.body)
	}
	assert.Empty(t, e.s.Contacts(hubGlobex))
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	cases := []struct {
		name, method, path string
		status             int
	}{
		{"v3 path", http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", http.StatusNotFound},
		{"unknown version", http.MethodPost, "/crm/objects/2025-09/contacts/batch/upsert", http.StatusNotFound},
		{"other object", http.MethodPost, "/crm/objects/2026-03/companies/batch/upsert", http.StatusNotFound},
		{"search not simulated", http.MethodPost, "/crm/objects/2026-03/contacts/search", http.StatusNotFound},
		{"single property", http.MethodGet, propsPath + "/email", http.StatusNotFound},
		{"trailing slash", http.MethodGet, propsPath + "/", http.StatusNotFound},
		{"root", http.MethodGet, "/", http.StatusNotFound},
		{"GET batch", http.MethodGet, upsertPath, http.StatusMethodNotAllowed},
		{"DELETE properties", http.MethodDelete, propsPath, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, tc.path, "application/json", at, strings.NewReader(`{}`))
			category := "OBJECT_NOT_FOUND"
			if tc.status == http.StatusMethodNotAllowed {
				category = "METHOD_NOT_ALLOWED"
				assertRateHeaders(t, res)
			}
			res.apiError(t, tc.status, category)
		})
	}
	assert.Equal(t, len(cases), e.s.Count(func(r hubspottest.Request) bool { return r.Endpoint == "unknown" }))
}

func TestMalformedJSON(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	cases := []struct{ name, body, want string }{
		{"syntax", "{\n  \"inputs\": [,]}", "Invalid input JSON on line 2, column"},
		{"unknown field", `{"inputs":[{"id":"a@b.com","idProperty":"email","properties":{},"propertiez":1}]}`, "unknown field"},
		{"number value", `{"inputs":[{"id":"a@b.com","idProperty":"email","properties":{"firstname":5}}]}`, "Invalid input JSON on line 1"},
		{"empty", ``, "No content to map"},
		{"trailing", `{"inputs":[]} {}`, "unexpected data"},
		{"inputs not array", `{"inputs":{}}`, "Invalid input JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.postJSON(upsertPath, at, tc.body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Contains(t, body.Message, tc.want)
		})
	}
	assert.Empty(t, e.s.Contacts(hubAcme))
}
