package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
)

// TestBatchOfExactlyTheMaximum: 100 inputs, HubSpot's batch maximum, go out
// in one call.
func TestBatchOfExactlyTheMaximum(t *testing.T) {
	e := newEnv(t)
	in := make([]hubspot.UpsertInput, hubspot.MaxBatch)
	for i := range in {
		in[i] = hubspot.UpsertInput{Email: fmt.Sprintf("u%d@example.com", i)}
	}
	res, err := e.portal.UpsertByEmail(context.Background(), in)
	require.NoError(t, err)
	assert.Len(t, res.Contacts, 100)
	assert.Len(t, e.rec.Requests(), 1)
}

// TestResultsMatchedByPosition: a server that echoes neither the trace ids
// nor the emails, with one result per input, is read in input order.
func TestResultsMatchedByPosition(t *testing.T) {
	const results = `{"status":"COMPLETE","results":[{"id":"1","properties":{}},{"id":"2","properties":{}}]}`
	t.Run("upsert", func(t *testing.T) {
		c, _ := fakeHubSpot(t, respond(200, results))
		res, err := c.Portal(1, staticToken("t"), nil).UpsertByEmail(context.Background(), []hubspot.UpsertInput{
			{Email: "A@example.com"}, {Email: "b@example.com"}})
		require.NoError(t, err)
		assert.Equal(t, "1", res.Contacts["a@example.com"].ID)
		assert.Equal(t, "2", res.Contacts["b@example.com"].ID)
	})
	t.Run("create", func(t *testing.T) {
		c, _ := fakeHubSpot(t, respond(201, results))
		res, err := c.Portal(1, staticToken("t"), nil).Create(context.Background(), []hubspot.CreateInput{
			{TraceID: "ta", Properties: map[string]string{"email": "a@example.com"}},
			{TraceID: "tb", Properties: map[string]string{"email": "b@example.com"}}})
		require.NoError(t, err)
		assert.Equal(t, "1", res.Created["ta"].ID)
		assert.Equal(t, "2", res.Created["tb"].ID)
	})
}

// TestDealResultsMatchedByTheirKey: HubSpot does not promise batch results
// in input order; a server that echoes no trace ids and answers in another
// order has each created deal matched to its input by the unique property
// the inputs set, not by position.
func TestDealResultsMatchedByTheirKey(t *testing.T) {
	const results = `{"status":"COMPLETE","results":[` +
		`{"id":"20","properties":{"dealname":"B","refhub_referral_key":"src/b"}},` +
		`{"id":"10","properties":{"dealname":"A","refhub_referral_key":"src/a"}}]}`
	c, _ := fakeHubSpot(t, respond(201, results))
	res, err := c.Portal(1, staticToken("t"), nil).CreateDeals(context.Background(), "refhub_referral_key", []hubspot.DealCreateInput{
		{TraceID: "ta", Properties: map[string]string{"dealname": "A", "refhub_referral_key": "src/a"}},
		{TraceID: "tb", Properties: map[string]string{"dealname": "B", "refhub_referral_key": "src/b"}}})
	require.NoError(t, err)
	assert.Equal(t, "10", res.Created["ta"].ID)
	assert.Equal(t, "20", res.Created["tb"].ID)
	assert.Empty(t, res.Failed)
}

// TestEmptySuccessBody: a 2xx answer without a body is not a decoding
// failure: it holds no results, and an introspection without a body
// reports no active token.
func TestEmptySuccessBody(t *testing.T) {
	c, _ := fakeHubSpot(t, respond(200, ""))
	found, err := c.Portal(1, staticToken("t"), nil).ReadByEmail(context.Background(), []string{"a@example.com"}, nil)
	require.NoError(t, err)
	assert.Empty(t, found)
	info, err := c.Introspect(context.Background(), "t", "access_token")
	require.NoError(t, err)
	assert.False(t, info.Active)
}

// TestPropertyErrorsWithMissingParts: an embedded property error that
// names only the property or only the code is kept; a listed error
// without a property name is kept without one.
func TestPropertyErrorsWithMissingParts(t *testing.T) {
	body := `{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: [` +
		`{\"message\":\"code only\",\"error\":\"INVALID_OPTION\"},{\"message\":\"name only\",\"name\":\"lifecyclestage\"},{\"message\":\"neither\"}]",` +
		`"errors":[{"message":"no property named","code":"INVALID_INTEGER"}]}`
	c, _ := fakeHubSpot(t, respond(400, body))
	err := readOne(c.Portal(1, staticToken("t"), nil))
	var ve *hubspot.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []hubspot.PropertyError{
		{Code: "INVALID_OPTION", Message: "code only"},
		{Property: "lifecyclestage", Message: "name only"},
		{Code: "INVALID_INTEGER", Message: "no property named"},
	}, ve.Properties)

	// A message that is the list alone.
	c, _ = fakeHubSpot(t, respond(400, `{"status":"error","category":"VALIDATION_ERROR","message":"[{\"message\":\"m\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]"}`))
	require.ErrorAs(t, readOne(c.Portal(1, staticToken("t"), nil)), &ve)
	assert.Equal(t, []hubspot.PropertyError{{Code: "INVALID_EMAIL", Property: "email", Message: "m"}}, ve.Properties)
}

// TestOAuthErrorDetails: the error names HubSpot's RFC 6749 code (or its
// own status when there is none) and keeps error_description over message;
// a token endpoint failing with 500 is a server error, retried.
func TestOAuthErrorDetails(t *testing.T) {
	assert.Equal(t, "hubspot oauth: 400 invalid_client: d",
		(&hubspot.OAuthError{StatusCode: 400, Code: "invalid_client", Status: "BAD_CLIENT_SECRET", Description: "d"}).Error())
	assert.Equal(t, "hubspot oauth: 400 BAD_REFRESH_TOKEN: d",
		(&hubspot.OAuthError{StatusCode: 400, Status: "BAD_REFRESH_TOKEN", Description: "d"}).Error())
	assert.True(t, (&hubspot.OAuthError{StatusCode: 500}).Temporary(), "500 is temporary")
	assert.False(t, (&hubspot.OAuthError{StatusCode: 499}).Temporary())

	c, _ := fakeHubSpot(t, respond(400, `{"error":"invalid_client","error_description":"the description","message":"the message"}`))
	_, err := c.Introspect(context.Background(), "t", "access_token")
	var oe *hubspot.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "the description", oe.Description)

	c, _ = fakeHubSpot(t, respond(500, `internal error`, "Content-Type", "text/plain"))
	_, err = c.Introspect(context.Background(), "t", "access_token")
	var se *hubspot.ServerError
	require.ErrorAs(t, err, &se, "got %v", err)
	assert.Equal(t, http.StatusInternalServerError, se.StatusCode)
}
