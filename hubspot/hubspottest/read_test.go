package hubspottest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readBody(idProperty string, props []string, ids ...string) map[string]any {
	in := make([]map[string]string, len(ids))
	for i, id := range ids {
		in[i] = map[string]string{"id": id}
	}
	b := map[string]any{"inputs": in, "properties": props, "propertiesWithHistory": []string{}}
	if idProperty != "" {
		b["idProperty"] = idProperty
	}
	return b
}

func TestBatchReadByEmail(t *testing.T) {
	e := newEnv(t)
	ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test", "firstname": "Ann"})
	bob := e.s.SeedContact(hubAcme, map[string]string{"email": "bob@acme.test", "lastname": "B"})
	at := e.token(hubAcme)

	res := e.postJSON(readPath, at, readBody("email", []string{"email", "firstname", "no_such_prop"}, "ANN@acme.test", "bob@acme.test"))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 2)
	assert.Zero(t, b.NumErrors)
	got := map[string]map[string]*string{}
	for _, r := range b.Results {
		got[r.ID] = r.Properties
	}
	assert.Equal(t, "Ann", str(got[ann.ID]["firstname"]))
	require.Contains(t, got[bob.ID], "firstname")
	assert.Nil(t, got[bob.ID]["firstname"], "requested but unset: null")
	assert.NotContains(t, got[bob.ID], "lastname", "not requested")
	assert.NotContains(t, got[bob.ID], "no_such_prop", "unknown names are ignored")
	for _, sys := range []string{"hs_object_id", "createdate", "lastmodifieddate"} {
		assert.NotNil(t, got[ann.ID][sys], sys)
	}
}

func TestBatchReadMisses(t *testing.T) {
	e := newEnv(t)
	ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test"})
	at := e.token(hubAcme)
	cases := []struct {
		name       string
		body       map[string]any
		wantFound  int
		wantMissed []string
	}{
		{"some missing", readBody("email", []string{"email"}, "ann@acme.test", "x@y.com", "not-an-email"), 1, []string{"x@y.com", "not-an-email"}},
		{"none found", readBody("email", []string{"email"}, "x@y.com"), 0, []string{"x@y.com"}},
		{"by record id", readBody("", []string{"email"}, ann.ID, "424242", "abc"), 1, []string{"424242", "abc"}},
		{"by hs_object_id", readBody("hs_object_id", nil, ann.ID, "1"), 1, []string{"1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postJSON(readPath, at, tc.body)
			require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
			b := res.batch(t)
			assert.Len(t, b.Results, tc.wantFound)
			assert.NotNil(t, b.Results, "results is [] not null")
			assert.Equal(t, 1, b.NumErrors)
			require.Len(t, b.Errors, 1)
			assert.Equal(t, "error", b.Errors[0].Status)
			assert.Equal(t, "OBJECT_NOT_FOUND", b.Errors[0].Category)
			assert.Equal(t, "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.", b.Errors[0].Message)
			assert.Equal(t, tc.wantMissed, b.Errors[0].Context["ids"])
		})
	}
}

func TestBatchReadDefaultsAndRejections(t *testing.T) {
	e := newEnv(t)
	ann := e.s.SeedContact(hubAcme, map[string]string{"email": "ann@acme.test", "city": "Oslo"})
	at := e.token(hubAcme)
	b := e.postJSON(readPath, at, map[string]any{"inputs": []map[string]string{{"id": ann.ID}}}).batch(t)
	require.Len(t, b.Results, 1)
	props := b.Results[0].Properties
	for _, p := range []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"} {
		assert.Contains(t, props, p)
	}
	assert.NotContains(t, props, "city")

	body := e.postJSON(readPath, at, readBody("firstname", nil, "Ann")).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Contains(t, body.Message, "non-unique")

	res := e.postJSON(readPath, at, map[string]any{
		"inputs": []map[string]string{{"id": ann.ID}}, "properties": []string{"email"}, "propertiesWithHistory": []string{"city"},
	})
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, string(res.body), `"propertiesWithHistory":{"city":[{"value":"Oslo"`)
}
