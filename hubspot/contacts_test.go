package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// assertCRMRequest checks the shape every authenticated JSON call shares.
func assertCRMRequest(t *testing.T, req recorded, method, path, token string) {
	t.Helper()
	assert.Equal(t, method, req.Method)
	assert.Equal(t, path, req.Path)
	assert.Equal(t, "Bearer "+token, req.Header.Get("Authorization"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Equal(t, "refhub", req.Header.Get("User-Agent"))
	if method == http.MethodPost {
		assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
		assert.True(t, json.Valid(req.Body), "body must be JSON: %s", req.Body)
	} else {
		assert.Empty(t, req.Body)
	}
}

func TestUpsertByEmail(t *testing.T) {
	e := newEnv(t)
	existing := e.sim.SeedContact(hubAcme, map[string]string{"email": "bob@example.com", "firstname": "Old"})

	res, err := e.portal.UpsertByEmail(context.Background(), []hubspot.UpsertInput{
		{Email: "Alice@Example.com", Properties: map[string]string{"firstname": "Alice"}},
		{Email: "bob@example.com", Properties: map[string]string{"firstname": "Bob"}},
		{Email: "carol@example.com", Properties: map[string]string{"firstname": "Carol", "lastname": "C"}},
	})
	require.NoError(t, err)
	got := res.Contacts
	require.Len(t, got, 3)
	assert.Empty(t, res.Failed)

	for _, email := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		c, ok := got[email]
		require.True(t, ok, "result for %s (results are keyed by lowercased email)", email)
		stored, ok := e.sim.ContactByEmail(hubAcme, email)
		require.True(t, ok)
		assert.Equal(t, stored.ID, c.ID, "the result for %s must be that contact's, whatever order HubSpot answered in", email)
		assert.Equal(t, email, c.Email())
		assert.Equal(t, stored.Properties["firstname"], c.Properties["firstname"])
		assert.False(t, c.CreatedAt.IsZero())
		assert.False(t, c.UpdatedAt.IsZero())
	}
	assert.True(t, got["alice@example.com"].New)
	assert.False(t, got["bob@example.com"].New)
	assert.Equal(t, existing.ID, got["bob@example.com"].ID)
	assert.Equal(t, "Bob", got["bob@example.com"].Properties["firstname"])
	assert.Equal(t, "C", got["carol@example.com"].Properties["lastname"])

	req := e.rec.Last(t)
	assertCRMRequest(t, req, http.MethodPost, "/crm/objects/2026-03/contacts/batch/upsert", e.access)
	var body struct {
		Inputs []struct {
			ID         string            `json:"id"`
			IDProperty string            `json:"idProperty"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Len(t, body.Inputs, 3)
	assert.Equal(t, "Alice@Example.com", body.Inputs[0].ID)
	assert.Equal(t, "email", body.Inputs[0].IDProperty)
	assert.Equal(t, map[string]string{"firstname": "Alice"}, body.Inputs[0].Properties)
}

func TestUpsertResultsMatchedByEmailWhenOutOfOrder(t *testing.T) {
	// HubSpot does not promise input order; this fake answers in reverse
	// order to make sure nothing is matched by position.
	c, _ := fakeHubSpot(t, respond(200, `{"status":"COMPLETE","results":[
		{"id":"3","properties":{"email":"c@example.com","firstname":"C"},"new":true},
		{"id":"2","properties":{"email":"b@example.com","firstname":"B"},"new":false},
		{"id":"1","properties":{"email":"A@example.com","firstname":"A"},"new":true}]}`))
	res, err := c.Portal(1, staticToken("t"), nil).UpsertByEmail(context.Background(), []hubspot.UpsertInput{
		{Email: "a@example.com"}, {Email: "b@example.com"}, {Email: "c@example.com"},
	})
	require.NoError(t, err)
	got := res.Contacts
	assert.Equal(t, "1", got["a@example.com"].ID)
	assert.Equal(t, "2", got["b@example.com"].ID)
	assert.Equal(t, "3", got["c@example.com"].ID)
	assert.False(t, got["b@example.com"].New)
}

// TestUpsertPartialFailures: should HubSpot report failures per input (207,
// with the input's objectWriteTraceId or its id), they come back typed and
// keyed by email, and the others as written.
func TestUpsertPartialFailures(t *testing.T) {
	c, _ := fakeHubSpot(t, respond(207, `{"status":"COMPLETE","results":[
		{"id":"1","properties":{"firstname":"A"},"new":true,"objectWriteTraceId":"u0"}],
		"numErrors":2,"errors":[
		{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address b@x is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]","context":{"objectWriteTraceId":["u1"]}},
		{"status":"error","category":"INTERNAL_ERROR","message":"try again","context":{"ids":["C@example.com"]}}]}`))
	res, err := c.Portal(1, staticToken("t"), nil).UpsertByEmail(context.Background(), []hubspot.UpsertInput{
		{Email: "a@example.com"}, {Email: "b@x"}, {Email: "c@example.com"},
	})
	require.NoError(t, err)
	assert.Equal(t, "1", res.Contacts["a@example.com"].ID, "matched by trace id though the email was not echoed")
	var ve *hubspot.ValidationError
	require.ErrorAs(t, res.Failed["b@x"], &ve)
	assert.Equal(t, "INVALID_EMAIL", ve.Properties[0].Code)
	assert.Error(t, res.Failed["c@example.com"])
	assert.False(t, errors.As(res.Failed["c@example.com"], &ve))
}

func TestUpsertValidationFailsWholeBatch(t *testing.T) {
	e := newEnv(t)
	_, err := e.portal.UpsertByEmail(context.Background(), []hubspot.UpsertInput{
		{Email: "good@example.com", Properties: map[string]string{"firstname": "Good"}},
		{Email: "not-an-email", Properties: map[string]string{"no_such_property": "x"}},
	})
	var ve *hubspot.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, http.StatusBadRequest, ve.StatusCode)
	assert.Equal(t, "VALIDATION_ERROR", ve.Category)
	assert.Contains(t, err.Error(), fmt.Sprintf("portal %d: batch upsert", hubAcme))
	assert.ElementsMatch(t, []hubspot.PropertyError{
		{Code: "INVALID_EMAIL", Property: "email", Message: "Email address not-an-email is invalid"},
		{Code: "PROPERTY_DOESNT_EXIST", Property: "no_such_property", Message: `Property "no_such_property" does not exist`},
	}, ve.Properties)
	assert.Empty(t, e.sim.Contacts(hubAcme), "HubSpot writes nothing when an upsert by email fails")
}

func TestBatchSizeCheckedBeforeCalling(t *testing.T) {
	e := newEnv(t)
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("u%d@example.com", i)
		}
		return out
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"upsert none", func() error { _, err := e.portal.UpsertByEmail(context.Background(), nil); return err }},
		{"upsert 101", func() error {
			in := make([]hubspot.UpsertInput, 101)
			for i, m := range many(101) {
				in[i] = hubspot.UpsertInput{Email: m}
			}
			_, err := e.portal.UpsertByEmail(context.Background(), in)
			return err
		}},
		{"read none", func() error { _, err := e.portal.ReadByEmail(context.Background(), nil, nil); return err }},
		{"read 101", func() error { _, err := e.portal.ReadByEmail(context.Background(), many(101), nil); return err }},
		{"read ids 101", func() error { _, err := e.portal.ReadByID(context.Background(), many(101), nil); return err }},
		{"create none", func() error { _, err := e.portal.Create(context.Background(), nil); return err }},
		{"update 101", func() error {
			_, _, err := e.portal.Update(context.Background(), make([]hubspot.UpdateInput, 101))
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "must be 1 to 100")
		})
	}
	assert.Empty(t, e.rec.Requests(), "an invalid batch must not reach HubSpot")
	assert.Zero(t, e.limiter.Waits(), "an invalid batch must not take a rate-limit slot")
}

func TestReadByEmail(t *testing.T) {
	e := newEnv(t)
	alice := e.sim.SeedContact(hubAcme, map[string]string{"email": "alice@example.com", "firstname": "Alice"})
	bob := e.sim.SeedContact(hubAcme, map[string]string{"email": "bob@example.com", "company": "Bobco"})

	got, err := e.portal.ReadByEmail(context.Background(),
		[]string{"Alice@example.com", "missing@example.com", "bob@example.com"}, []string{"firstname", "company"})
	require.NoError(t, err, "misses come back as a 207 and are not an error")
	require.Len(t, got, 2)
	assert.NotContains(t, got, "missing@example.com")
	assert.Equal(t, alice.ID, got["alice@example.com"].ID)
	assert.Equal(t, "Alice", got["alice@example.com"].Properties["firstname"])
	_, hasCompany := got["alice@example.com"].Properties["company"]
	assert.False(t, hasCompany, "a property HubSpot returned as null is absent")
	assert.Equal(t, bob.ID, got["bob@example.com"].ID)
	assert.Equal(t, "Bobco", got["bob@example.com"].Properties["company"])

	req := e.rec.Last(t)
	assertCRMRequest(t, req, http.MethodPost, "/crm/objects/2026-03/contacts/batch/read", e.access)
	var body struct {
		IDProperty string   `json:"idProperty"`
		Properties []string `json:"properties"`
		Inputs     []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	assert.Equal(t, "email", body.IDProperty)
	assert.Equal(t, []string{"firstname", "company", "email"}, body.Properties, "email is always requested")
	assert.Len(t, body.Inputs, 3)
	assert.Equal(t, 1, e.sim.Count(func(r hubspottest.Request) bool { return r.Status == http.StatusMultiStatus }))

	t.Run("none found", func(t *testing.T) {
		got, err := e.portal.ReadByEmail(context.Background(), []string{"nobody@example.com"}, nil)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}

func TestReadByID(t *testing.T) {
	e := newEnv(t)
	alice := e.sim.SeedContact(hubAcme, map[string]string{"email": "alice@example.com", "firstname": "Alice"})

	got, err := e.portal.ReadByID(context.Background(), []string{alice.ID, "999999"}, []string{"firstname"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "Alice", got[alice.ID].Properties["firstname"])
	assert.Equal(t, "alice@example.com", got[alice.ID].Email())

	var body map[string]any
	require.NoError(t, json.Unmarshal(e.rec.Last(t).Body, &body))
	assert.NotContains(t, body, "idProperty", "reads by record id send no idProperty")
}

func TestReadItemErrorOtherThanNotFound(t *testing.T) {
	c, _ := fakeHubSpot(t, respond(207, `{"status":"COMPLETE","results":[],"numErrors":1,
		"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: [{\"error\":\"INVALID_EMAIL\",\"name\":\"email\",\"message\":\"bad\"}]"}]}`))
	_, err := c.Portal(1, staticToken("t"), nil).ReadByEmail(context.Background(), []string{"x@example.com"}, nil)
	var ve *hubspot.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []hubspot.PropertyError{{Code: "INVALID_EMAIL", Property: "email", Message: "bad"}}, ve.Properties)
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	taken := e.sim.SeedContact(hubAcme, map[string]string{"email": "taken@example.com"})

	res, err := e.portal.Create(context.Background(), []hubspot.CreateInput{
		{TraceID: "t-new", Properties: map[string]string{"email": "new@example.com", "firstname": "New"}},
		{TraceID: "t-taken", Properties: map[string]string{"email": "taken@example.com"}},
		{TraceID: "t-bad", Properties: map[string]string{"email": "bad@example.com", "favourite_colour": "red"}},
		{TraceID: "t-new2", Properties: map[string]string{"email": "new2@example.com"}},
	})
	require.NoError(t, err, "per-input failures come back in a 207")

	require.Len(t, res.Created, 2)
	created, ok := e.sim.ContactByEmail(hubAcme, "new@example.com")
	require.True(t, ok)
	assert.Equal(t, created.ID, res.Created["t-new"].ID)
	assert.Equal(t, "New", res.Created["t-new"].Properties["firstname"])
	created2, _ := e.sim.ContactByEmail(hubAcme, "new2@example.com")
	assert.Equal(t, created2.ID, res.Created["t-new2"].ID)

	require.Len(t, res.Failed, 2)
	var ce *hubspot.ConflictError
	require.ErrorAs(t, res.Failed["t-taken"], &ce)
	assert.Equal(t, taken.ID, ce.ExistingID)
	assert.Equal(t, http.StatusConflict, ce.StatusCode)
	var ve *hubspot.ValidationError
	require.ErrorAs(t, res.Failed["t-bad"], &ve)
	require.Len(t, ve.Properties, 1)
	assert.Equal(t, "PROPERTY_DOESNT_EXIST", ve.Properties[0].Code)
	assert.Equal(t, "favourite_colour", ve.Properties[0].Property)

	req := e.rec.Last(t)
	assertCRMRequest(t, req, http.MethodPost, "/crm/objects/2026-03/contacts/batch/create", e.access)
	var body struct {
		Inputs []struct {
			ObjectWriteTraceID string            `json:"objectWriteTraceId"`
			Associations       []any             `json:"associations"`
			Properties         map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Len(t, body.Inputs, 4)
	assert.Equal(t, "t-new", body.Inputs[0].ObjectWriteTraceID)
	assert.NotNil(t, body.Inputs[0].Associations)
}

func TestCreateWithoutTraceEcho(t *testing.T) {
	// A server that does not echo objectWriteTraceId: results are matched
	// to inputs by email.
	c, _ := fakeHubSpot(t, respond(201, `{"status":"COMPLETE","results":[
		{"id":"9","properties":{"email":"b@example.com"}}]}`))
	res, err := c.Portal(1, staticToken("t"), nil).Create(context.Background(), []hubspot.CreateInput{
		{TraceID: "ta", Properties: map[string]string{"email": "a@example.com"}},
		{TraceID: "tb", Properties: map[string]string{"email": "B@example.com"}},
	})
	require.NoError(t, err)
	require.Len(t, res.Created, 1)
	assert.Equal(t, "9", res.Created["tb"].ID)
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	alice := e.sim.SeedContact(hubAcme, map[string]string{"email": "alice@example.com", "firstname": "Alice"})

	updated, missing, err := e.portal.Update(context.Background(), []hubspot.UpdateInput{
		{ID: alice.ID, Properties: map[string]string{"lastname": "Liddell"}},
		{ID: "987654", Properties: map[string]string{"lastname": "Ghost"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"987654"}, missing)
	require.Len(t, updated, 1)
	assert.Equal(t, "Liddell", updated[alice.ID].Properties["lastname"])
	stored, _ := e.sim.ContactByEmail(hubAcme, "alice@example.com")
	assert.Equal(t, "Liddell", stored.Properties["lastname"])

	req := e.rec.Last(t)
	assertCRMRequest(t, req, http.MethodPost, "/crm/objects/2026-03/contacts/batch/update", e.access)

	t.Run("invalid value fails the batch", func(t *testing.T) {
		_, _, err := e.portal.Update(context.Background(), []hubspot.UpdateInput{
			{ID: alice.ID, Properties: map[string]string{"hs_object_id": "1"}},
		})
		var ve *hubspot.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Properties, 1)
		assert.Equal(t, hubspot.PropertyError{Code: "READ_ONLY_VALUE", Property: "hs_object_id",
			Message: `"hs_object_id" is a read only property; its value cannot be set.`}, ve.Properties[0])
	})
}

func TestAPIVersionInPaths(t *testing.T) {
	tests := []struct {
		name, version, want string
		wantErr             bool
	}{
		{name: "default", want: "/crm/objects/2026-03/contacts/batch/read"},
		{name: "next version", version: "2026-09", want: "/crm/objects/2026-09/contacts/batch/read"},
		{name: "unknown version", version: "2019-01", want: "/crm/objects/2019-01/contacts/batch/read", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := hubspot.New(hubspot.Config{APIBase: e.rec.URL(), Version: tc.version,
				ClientID: "test-client-id", ClientSecret: "test-client-secret"})
			_, err := c.Portal(hubAcme, e.tokenFunc(), nil).ReadByEmail(context.Background(), []string{"a@example.com"}, nil)
			assert.Equal(t, tc.want, e.rec.Last(t).Path)
			if tc.wantErr {
				var nf *hubspot.NotFoundError
				assert.ErrorAs(t, err, &nf)
				return
			}
			assert.NoError(t, err)
		})
	}
}

func TestNilPropertiesSentAsEmptyObject(t *testing.T) {
	e := newEnv(t)
	seeded := e.sim.SeedContact(hubAcme, map[string]string{"email": "seed@example.com"})
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"upsert", func() error {
			_, err := e.portal.UpsertByEmail(ctx, []hubspot.UpsertInput{{Email: "only-email@example.com"}})
			return err
		}},
		{"update", func() error {
			_, _, err := e.portal.Update(ctx, []hubspot.UpdateInput{{ID: seeded.ID}})
			return err
		}},
		{"create", func() error {
			res, err := e.portal.Create(ctx, []hubspot.CreateInput{{TraceID: "x"}})
			if err == nil && len(res.Failed) != 1 {
				return fmt.Errorf("want the input without identity to fail alone, got %+v", res)
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.call())
			assert.Contains(t, string(e.rec.Last(t).Body), `"properties":{}`)
		})
	}
	_, ok := e.sim.ContactByEmail(hubAcme, "only-email@example.com")
	assert.True(t, ok)
}
