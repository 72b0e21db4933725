package hubspottest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func createInput(trace string, props map[string]string) map[string]any {
	in := map[string]any{"properties": props, "associations": []any{}}
	if trace != "" {
		in["objectWriteTraceId"] = trace
	}
	return in
}

func TestBatchCreateAllOrNothing(t *testing.T) {
	cases := []struct {
		name     string
		in       []map[string]any
		status   int
		category string
		want     string
	}{
		{"success", []map[string]any{
			createInput("", map[string]string{"email": "A@new.test", "firstname": "A"}),
			createInput("", map[string]string{"lastname": "NoEmail"}),
		}, http.StatusCreated, "", ""},
		{"first conflict only", []map[string]any{
			createInput("", map[string]string{"email": "fresh@new.test"}),
			createInput("", map[string]string{"email": "SECOND@acme.test"}),
			createInput("", map[string]string{"email": "first@acme.test"}),
		}, http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: %s"},
		{"duplicate within batch", []map[string]any{
			createInput("", map[string]string{"email": "dup@new.test"}),
			createInput("", map[string]string{"email": "DUP@new.test"}),
		}, http.StatusConflict, "CONFLICT", "Duplicate email in batch input: dup@new.test"},
		{"invalid value beats conflict", []map[string]any{
			createInput("", map[string]string{"email": "first@acme.test"}),
			createInput("", map[string]string{"email": "x@new.test", "phone": "1", "lifecyclestage": "nope"}),
		}, http.StatusBadRequest, "VALIDATION_ERROR", "INVALID_OPTION"},
		{"needs email, firstname or lastname", []map[string]any{
			createInput("", map[string]string{"company": "Acme", "firstname": ""}),
		}, http.StatusBadRequest, "VALIDATION_ERROR", "at least one of these properties"},
		{"associations not simulated", []map[string]any{
			{"properties": map[string]string{"email": "a@new.test"}, "associations": []map[string]any{{"to": map[string]string{"id": "1"}}}},
		}, http.StatusBadRequest, "VALIDATION_ERROR", "associations"},
		{"mixed trace ids is all or nothing", []map[string]any{
			createInput("t1", map[string]string{"email": "ok@new.test"}),
			createInput("", map[string]string{"email": "first@acme.test"}),
		}, http.StatusConflict, "CONFLICT", "Existing ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.s.SeedContact(hubAcme, map[string]string{"email": "first@acme.test"})
			second := e.s.SeedContact(hubAcme, map[string]string{"email": "second@acme.test"})
			res := e.postJSON(createPath, e.token(hubAcme), inputs(tc.in...))
			if tc.status == http.StatusCreated {
				require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
				b := res.batch(t)
				assert.Len(t, b.Results, len(tc.in))
				assert.Zero(t, b.NumErrors)
				assert.Len(t, e.s.Contacts(hubAcme), 2+len(tc.in))
				_, ok := e.s.ContactByEmail(hubAcme, "a@new.test")
				assert.True(t, ok)
				return
			}
			body := res.apiError(t, tc.status, tc.category)
			want := tc.want
			if want == "Contact already exists. Existing ID: %s" {
				want = "Contact already exists. Existing ID: " + second.ID
				assert.Equal(t, want, body.Message, "the first conflicting input is reported, not %s", first.ID)
			}
			assert.Contains(t, body.Message, want)
			assert.Len(t, e.s.Contacts(hubAcme), 2, "nothing written")
		})
	}
}

func TestBatchCreateWithTraceIDsIsPartial(t *testing.T) {
	e := newEnv(t)
	existing := e.s.SeedContact(hubAcme, map[string]string{"email": "taken@acme.test"})
	res := e.postJSON(createPath, e.token(hubAcme), inputs(
		createInput("t-ok", map[string]string{"email": "ok@new.test"}),
		createInput("t-bad", map[string]string{"email": "not-an-email"}),
		createInput("t-taken", map[string]string{"email": "Taken@acme.test"}),
		createInput("t-dup", map[string]string{"email": "ok@new.test"}),
		createInput("t-anon", map[string]string{"firstname": "Anon"}),
	))
	require.Equal(t, http.StatusMultiStatus, res.status, "body: %s", res.body)
	b := res.batch(t)
	require.Len(t, b.Results, 2)
	traces := map[string]string{}
	for _, r := range b.Results {
		traces[r.ObjectWriteTraceID] = r.ID
	}
	assert.Contains(t, traces, "t-ok")
	assert.Contains(t, traces, "t-anon")
	assert.Equal(t, 3, b.NumErrors)
	require.Len(t, b.Errors, 3)

	assert.Equal(t, "VALIDATION_ERROR", b.Errors[0].Category)
	assert.Equal(t, []string{"t-bad"}, b.Errors[0].Context["objectWriteTraceId"])
	assert.Equal(t, "INVALID_EMAIL", issues(t, b.Errors[0].Message)[0].Error)

	assert.Equal(t, "CONFLICT", b.Errors[1].Category)
	assert.Equal(t, "Contact already exists. Existing ID: "+existing.ID, b.Errors[1].Message)
	assert.Equal(t, []string{"t-taken"}, b.Errors[1].Context["objectWriteTraceId"])

	assert.Equal(t, "Contact already exists. Existing ID: "+traces["t-ok"], b.Errors[2].Message, "conflicts with the record created earlier in the batch")
	assert.Equal(t, []string{"t-dup"}, b.Errors[2].Context["objectWriteTraceId"])
	assert.Len(t, e.s.Contacts(hubAcme), 3)
}

func TestBatchCreateWithTraceIDsAllOK(t *testing.T) {
	e := newEnv(t)
	res := e.postJSON(createPath, e.token(hubAcme), inputs(
		createInput("a", map[string]string{"email": "a@new.test"}),
		createInput("b", map[string]string{"email": "b@new.test"}),
	))
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	assert.Len(t, res.batch(t).Results, 2)

	body := e.postJSON(createPath, e.token(hubAcme), inputs(
		createInput("same", map[string]string{"email": "c@new.test"}),
		createInput("same", map[string]string{"email": "d@new.test"}),
	)).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Contains(t, body.Message, "Duplicate")
}
