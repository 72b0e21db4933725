package hubspottest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpsertCreatesAndUpdatesByEmail(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	existing := e.s.SeedContact(hubAcme, map[string]string{"email": "old@acme.test", "firstname": "Old", "city": "Paris"})
	e.clock.Advance(time.Minute)

	res := e.postJSON(upsertPath, at, inputs(
		upsertInput("New.Person@Example.com", map[string]string{"firstname": "New", "lifecyclestage": "lead"}),
		upsertInput("OLD@acme.test", map[string]string{"lastname": "Timer", "city": ""}),
	))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	b := res.batch(t)
	assert.Equal(t, "COMPLETE", b.Status)
	require.Len(t, b.Results, 2)
	assert.NotEmpty(t, b.StartedAt)
	assert.NotEmpty(t, b.CompletedAt)

	byEmail := map[string]int{}
	for i, r := range b.Results {
		byEmail[str(r.Properties["email"])] = i
	}
	created := b.Results[byEmail["new.person@example.com"]]
	updated := b.Results[byEmail["old@acme.test"]]
	assert.True(t, *created.New)
	assert.False(t, *updated.New)
	assert.Equal(t, existing.ID, updated.ID)
	assert.Equal(t, created.ID, str(created.Properties["hs_object_id"]))
	assert.Equal(t, "New", str(created.Properties["firstname"]))
	assert.Equal(t, "lead", str(created.Properties["lifecyclestage"]))
	assert.Equal(t, "example.com", str(created.Properties["hs_email_domain"]))
	assert.NotContains(t, updated.Properties, "city", "empty string cleared the value")
	assert.Equal(t, "Old", str(updated.Properties["firstname"]))
	assert.Equal(t, "Timer", str(updated.Properties["lastname"]))
	assert.Equal(t, "2026-11-02T09:00:00.000Z", updated.CreatedAt)
	assert.Equal(t, "2026-11-02T09:01:00.000Z", updated.UpdatedAt)
	assert.Equal(t, "2026-11-02T09:01:00.000Z", str(updated.Properties["lastmodifieddate"]))
	assert.Equal(t, "2026-11-02T09:00:00.000Z", str(updated.Properties["createdate"]))

	c, ok := e.s.ContactByEmail(hubAcme, "NEW.person@example.COM")
	require.True(t, ok)
	assert.Equal(t, "new.person@example.com", c.Properties["email"], "stored lowercase")
	assert.Len(t, e.s.Contacts(hubAcme), 2)
	assert.Empty(t, e.s.Contacts(hubGlobex), "portals are isolated")
}

func TestUpsertResultsAreNotInInputOrder(t *testing.T) {
	e := newEnv(t)
	var in []map[string]any
	for i := 0; i < 5; i++ {
		in = append(in, upsertInput(fmt.Sprintf("p%d@x.test", i), map[string]string{}))
	}
	b := e.postJSON(upsertPath, e.token(hubAcme), inputs(in...)).batch(t)
	require.Len(t, b.Results, 5)
	assert.Equal(t, "p4@x.test", str(b.Results[0].Properties["email"]))
	assert.Equal(t, "p0@x.test", str(b.Results[4].Properties["email"]))
}

func TestUpsertByObjectID(t *testing.T) {
	e := newEnv(t)
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "id@acme.test"})
	e.s.SeedContact(hubAcme, map[string]string{"email": "taken@acme.test"})
	at := e.token(hubAcme)
	res := e.postJSON(upsertPath, at, inputs(map[string]any{"id": c.ID, "idProperty": "hs_object_id", "properties": map[string]string{"firstname": "Ida"}}))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	assert.False(t, *res.batch(t).Results[0].New)

	body := e.postJSON(upsertPath, at, inputs(map[string]any{"id": "999999", "idProperty": "hs_object_id", "properties": map[string]string{}})).
		apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Contains(t, body.Message, "cannot create")

	body = e.postJSON(upsertPath, at, inputs(map[string]any{"id": c.ID, "idProperty": "hs_object_id", "properties": map[string]string{"email": "taken@acme.test"}})).
		apiError(t, http.StatusConflict, "CONFLICT")
	assert.Regexp(t, `^Contact already exists\. Existing ID: \d+$`, body.Message)
}

func TestUpsertFailsWholeBatch(t *testing.T) {
	good := upsertInput("good@x.test", map[string]string{"firstname": "Good"})
	cases := []struct {
		name      string
		bad       map[string]any
		wantIssue []propIssue
		wantMsg   string
	}{
		{"invalid email id", upsertInput("foo@bar", map[string]string{}),
			[]propIssue{{Error: "INVALID_EMAIL", Name: "email", Message: "Email address foo@bar is invalid"}}, ""},
		{"unknown property", upsertInput("a@x.test", map[string]string{"favourite_colour": "red"}),
			[]propIssue{{Error: "PROPERTY_DOESNT_EXIST", Name: "favourite_colour"}}, ""},
		{"read only", upsertInput("a@x.test", map[string]string{"createdate": "2020-01-01", "hs_object_id": "5"}),
			[]propIssue{{Error: "READ_ONLY_VALUE", Name: "createdate"}, {Error: "READ_ONLY_VALUE", Name: "hs_object_id"}}, ""},
		{"calculated", upsertInput("a@x.test", map[string]string{"hs_email_domain": "x.test"}),
			[]propIssue{{Error: "READ_ONLY_VALUE", Name: "hs_email_domain"}}, ""},
		{"all invalid values of the input", upsertInput("a@x.test", map[string]string{"lifecyclestage": "Lead", "hs_lead_status": "new", "firstname": "ok"}),
			[]propIssue{{Error: "INVALID_OPTION", Name: "hs_lead_status"}, {Error: "INVALID_OPTION", Name: "lifecyclestage"}}, ""},
		{"email property differs from id", upsertInput("a@x.test", map[string]string{"email": "b@x.test"}), nil, "does not match"},
		{"email property cleared", upsertInput("a@x.test", map[string]string{"email": ""}), nil, "does not match"},
		{"missing idProperty", map[string]any{"id": "a@x.test", "properties": map[string]string{}}, nil, "idProperty is required"},
		{"non-unique idProperty", map[string]any{"id": "Ann", "idProperty": "firstname", "properties": map[string]string{}}, nil, "non-unique"},
		{"unknown idProperty", map[string]any{"id": "x", "idProperty": "nope", "properties": map[string]string{}}, nil, "does not exist"},
		{"non-numeric object id", map[string]any{"id": "a@x.test", "idProperty": "hs_object_id", "properties": map[string]string{}}, nil, "not a valid hs_object_id"},
		{"missing properties", map[string]any{"id": "a@x.test", "idProperty": "email"}, nil, "properties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			body := e.postJSON(upsertPath, e.token(hubAcme), inputs(good, tc.bad)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			if tc.wantIssue != nil {
				got := issues(t, body.Message)
				require.Len(t, got, len(tc.wantIssue))
				for i, want := range tc.wantIssue {
					assert.False(t, got[i].IsValid)
					assert.Equal(t, want.Error, got[i].Error)
					assert.Equal(t, want.Name, got[i].Name)
					assert.NotEmpty(t, got[i].LocalizedErrorMessage)
					if want.Message != "" {
						assert.Equal(t, want.Message, got[i].Message)
					}
				}
			} else {
				assert.Contains(t, body.Message, tc.wantMsg)
			}
			assert.Empty(t, e.s.Contacts(hubAcme), "nothing written")
		})
	}
}

func TestUpsertEmbeddedMessageFormat(t *testing.T) {
	e := newEnv(t)
	body := e.postJSON(upsertPath, e.token(hubAcme), inputs(upsertInput("foo@bar", map[string]string{}))).
		apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Equal(t, `Property values were not valid: [{"isValid":false,"message":"Email address foo@bar is invalid","error":"INVALID_EMAIL","name":"email","localizedErrorMessage":"Email address foo@bar is invalid"}]`, body.Message)
}

func TestBatchSizeAndDuplicates(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	many := func(n int, mk func(i int) map[string]any) map[string]any {
		var in []map[string]any
		for i := 0; i < n; i++ {
			in = append(in, mk(i))
		}
		return inputs(in...)
	}
	up := func(i int) map[string]any { return upsertInput(fmt.Sprintf("u%d@x.test", i), map[string]string{}) }
	id := func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprint(i + 1), "properties": map[string]string{}}
	}
	cr := func(i int) map[string]any {
		return map[string]any{"properties": map[string]string{"email": fmt.Sprintf("c%d@x.test", i)}}
	}
	rd := func(n int) map[string]any {
		b := many(n, func(i int) map[string]any { return map[string]any{"id": fmt.Sprint(i + 1)} })
		b["properties"] = []string{"email"}
		return b
	}
	cases := []struct {
		name string
		path string
		body any
		want string
	}{
		{"upsert 101", upsertPath, many(101, up), "Batch input size 101 exceeds the maximum of 100"},
		{"upsert 0", upsertPath, inputs(), "at least 1"},
		{"upsert missing inputs", upsertPath, map[string]any{}, "at least 1"},
		{"create 101", createPath, many(101, cr), "exceeds the maximum of 100"},
		{"update 101", updatePath, many(101, id), "exceeds the maximum of 100"},
		{"read 101", readPath, rd(101), "exceeds the maximum of 100"},
		{"read 0", readPath, rd(0), "at least 1"},
		{"upsert duplicate emails", upsertPath, inputs(upsertInput("A@x.test", map[string]string{}), upsertInput("b@x.test", map[string]string{}), upsertInput("a@X.test", map[string]string{})),
			"Duplicate IDs found in batch input: [a@X.test]"},
		{"update duplicate ids", updatePath, inputs(id(0), id(0)), "Duplicate IDs found in batch input: [1]"},
		{"read duplicate emails", readPath, map[string]any{"idProperty": "email", "inputs": []map[string]string{{"id": "a@x.test"}, {"id": "A@X.TEST"}}},
			"Duplicate IDs found in batch input: [A@X.TEST]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.postJSON(tc.path, at, tc.body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Contains(t, body.Message, tc.want)
		})
	}
	ok := e.postJSON(upsertPath, at, many(100, up))
	assert.Equal(t, http.StatusOK, ok.status, "100 is allowed: %s", ok.body)
	assert.Len(t, e.s.Contacts(hubAcme), 100)
	log := e.s.Requests()
	assert.Equal(t, 100, log[len(log)-1].Inputs)
}
