package hubspottest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func updateInput(id string, props map[string]string) map[string]any {
	return map[string]any{"id": id, "properties": props}
}

func TestBatchUpdate(t *testing.T) {
	e := newEnv(t)
	ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test", "city": "Oslo"})
	bob := e.s.SeedContact(hubAcme, map[string]string{"email": "bob@acme.test"})
	e.clock.Advance(time.Hour)
	res := e.postJSON(updatePath, e.token(hubAcme), inputs(
		updateInput(ann.ID, map[string]string{"city": "", "firstname": "Ann", "email": "Ann.New@acme.test"}),
		updateInput(bob.ID, map[string]string{"hs_lead_status": "OPEN"}),
	))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 2)
	assert.Equal(t, bob.ID, b.Results[0].ID, "id descending")

	got, ok := e.s.ContactByEmail(hubAcme, "ann.new@acme.test")
	require.True(t, ok)
	assert.Equal(t, ann.ID, got.ID)
	assert.NotContains(t, got.Properties, "city")
	assert.Equal(t, "Ann", got.Properties["firstname"])
	assert.Equal(t, "2026-11-02T10:00:00.000Z", got.Properties["lastmodifieddate"])
	assert.Equal(t, ann.CreatedAt, got.CreatedAt)
	_, stillIndexed := e.s.ContactByEmail(hubAcme, "ann@acme.test")
	assert.False(t, stillIndexed, "old email left the index")

	res = e.postJSON(upsertPath, e.token(hubAcme), inputs(upsertInput("ann@acme.test", map[string]string{})))
	require.Equal(t, http.StatusOK, res.status)
	assert.True(t, *res.batch(t).Results[0].New, "the old email is free again")
}

func TestBatchUpdateErrors(t *testing.T) {
	cases := []struct {
		name     string
		in       func(ann, bob string) []map[string]any
		status   int
		category string
		want     string
	}{
		{"by email refused", func(ann, bob string) []map[string]any {
			return []map[string]any{{"id": "ann@acme.test", "idProperty": "email", "properties": map[string]string{"firstname": "X"}}}
		}, http.StatusBadRequest, "VALIDATION_ERROR", "Unable to perform update/upsert by non-unique 0-1 property"},
		{"invalid value fails batch", func(ann, bob string) []map[string]any {
			return []map[string]any{updateInput(ann, map[string]string{"firstname": "X"}), updateInput(bob, map[string]string{"email": "bob@"})}
		}, http.StatusBadRequest, "VALIDATION_ERROR", "INVALID_EMAIL"},
		{"invalid value on unknown id still fails", func(ann, bob string) []map[string]any {
			return []map[string]any{updateInput(ann, map[string]string{"firstname": "X"}), updateInput("999", map[string]string{"nope": "1"})}
		}, http.StatusBadRequest, "VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST"},
		{"email taken", func(ann, bob string) []map[string]any {
			return []map[string]any{updateInput(ann, map[string]string{"firstname": "X"}), updateInput(bob, map[string]string{"email": "ANN@acme.test"})}
		}, http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: "},
		{"two inputs claim one email", func(ann, bob string) []map[string]any {
			return []map[string]any{updateInput(ann, map[string]string{"email": "x@acme.test"}), updateInput(bob, map[string]string{"email": "x@acme.test"})}
		}, http.StatusConflict, "CONFLICT", "Existing ID: "},
		{"missing properties", func(ann, bob string) []map[string]any {
			return []map[string]any{{"id": ann}}
		}, http.StatusBadRequest, "VALIDATION_ERROR", "properties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test"})
			bob := e.s.SeedContact(hubAcme, map[string]string{"email": "bob@acme.test"})
			body := e.postJSON(updatePath, e.token(hubAcme), inputs(tc.in(ann.ID, bob.ID)...)).apiError(t, tc.status, tc.category)
			assert.Contains(t, body.Message, tc.want)
			got, _ := e.s.ContactByEmail(hubAcme, "ann@acme.test")
			assert.NotContains(t, got.Properties, "firstname", "nothing written")
		})
	}
}

func TestBatchUpdateUnknownIDs(t *testing.T) {
	e := newEnv(t)
	ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test"})
	res := e.postJSON(updatePath, e.token(hubAcme), inputs(
		updateInput("999999", map[string]string{"firstname": "Ghost"}),
		updateInput(ann.ID, map[string]string{"firstname": "Ann"}),
		updateInput("nan", map[string]string{}),
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 1)
	assert.Equal(t, ann.ID, b.Results[0].ID)
	require.Len(t, b.Errors, 1)
	assert.Equal(t, "OBJECT_NOT_FOUND", b.Errors[0].Category)
	assert.Equal(t, []string{"999999", "nan"}, b.Errors[0].Context["ids"])
	got, _ := e.s.ContactByEmail(hubAcme, "ann@acme.test")
	assert.Equal(t, "Ann", got.Properties["firstname"], "the found ones were updated")
}
