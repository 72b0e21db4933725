package payload_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
)

const jsonType = "application/json"
const formType = "application/x-www-form-urlencoded"

// fields renders a payload as path=value pairs, in order.
func fields(t *testing.T, p *payload.Payload) []string {
	t.Helper()
	out := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		out[i] = f.Path + "=" + f.Value
	}
	return out
}

// parseOK parses and fails the test on error.
func parseOK(t *testing.T, contentType, body string, query url.Values) *payload.Payload {
	t.Helper()
	p, err := payload.Parse(contentType, []byte(body), query)
	require.NoError(t, err)
	require.NotNil(t, p)
	return p
}

// statusOf returns the HTTP status a Parse error is answered with (its kind,
// as app/apperr maps it), failing the test when the error is not a
// *payload.Error.
func statusOf(t *testing.T, err error) int {
	t.Helper()
	require.Error(t, err)
	var pe *payload.Error
	require.True(t, errors.As(err, &pe), "want a *payload.Error, got %T: %v", err, err)
	assert.NotEmpty(t, pe.Msg)
	assert.Equal(t, pe.Msg, pe.Error())
	return apperr.Status(apperr.As(err).Code)
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name string
		ct   string
		body string
		want []string
	}{
		{name: "flat", ct: jsonType,
			body: `{"email":"a@example.com","first_name":"Ann"}`,
			want: []string{"email=a@example.com", "first_name=Ann"}},
		{name: "nested objects become dotted paths", ct: jsonType,
			body: `{"user":{"email":"a@example.com","address":{"city":"Paris"}}}`,
			want: []string{"user.email=a@example.com", "user.address.city=Paris"}},
		{name: "arrays are indexed", ct: jsonType,
			body: `{"tags":["a","b"],"refs":[{"code":"X"}],"grid":[[1,2]]}`,
			want: []string{"tags.0=a", "tags.1=b", "refs.0.code=X", "grid.0.0=1", "grid.0.1=2"}},
		{name: "numbers kept exact", ct: jsonType,
			body: `{"big":12345678901234567890,"dec":1.50,"exp":1e3,"neg":-0}`,
			want: []string{"big=12345678901234567890", "dec=1.50", "exp=1e3", "neg=-0"}},
		{name: "booleans", ct: jsonType,
			body: `{"yes":true,"no":false}`,
			want: []string{"yes=true", "no=false"}},
		{name: "null skipped", ct: jsonType,
			body: `{"a":null,"b":"x","c":[null,"y"]}`,
			want: []string{"b=x", "c.1=y"}},
		{name: "empty string kept", ct: jsonType,
			body: `{"a":""}`,
			want: []string{"a="}},
		{name: "meta list of field/value pairs", ct: jsonType,
			body: `{"email":"a@example.com","meta":[{"field":"Company","value":"Acme"},{"field":"Size","value":"10"}]}`,
			want: []string{"email=a@example.com", "meta.0.field=Company", "meta.0.value=Acme",
				"meta.1.field=Size", "meta.1.value=10", "meta.Company=Acme", "meta.Size=10"}},
		{name: "meta pairs with name/value and mixed case keys", ct: jsonType,
			body: `{"meta":[{"Name":"Team","Value":"Blue"}]}`,
			want: []string{"meta.0.Name=Team", "meta.0.Value=Blue", "meta.Team=Blue"}},
		{name: "meta pair without a name gives no alias", ct: jsonType,
			body: `{"meta":[{"value":"orphan"}]}`,
			want: []string{"meta.0.value=orphan"}},
		{name: "NUL bytes stripped", ct: jsonType,
			body: `{"na\u0000me":"Ann\u0000e"}`,
			want: []string{"name=Anne"}},
		{name: "unicode escapes", ct: jsonType,
			body: `{"name":"Jos\u00e9 \ud83d\ude00"}`,
			want: []string{"name=José 😀"}},
		{name: "content type with charset", ct: "application/json; charset=utf-8",
			body: `{"a":"1"}`, want: []string{"a=1"}},
		{name: "content type case-insensitive", ct: "Application/JSON",
			body: `{"a":"1"}`, want: []string{"a=1"}},
		{name: "+json suffix", ct: "application/vnd.referral+json",
			body: `{"a":"1"}`, want: []string{"a=1"}},
		{name: "no content type", ct: "",
			body: ` {"a":"1"} `, want: []string{"a=1"}},
		{name: "text/plain JSON", ct: "text/plain",
			body: `{"a":"1"}`, want: []string{"a=1"}},
		{name: "surrounding whitespace", ct: jsonType,
			body: "\n\t {\"a\":\"1\"}\r\n", want: []string{"a=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parseOK(t, tc.ct, tc.body, nil)
			assert.Equal(t, tc.want, fields(t, p))
		})
	}
}

func TestParseFormAndQuery(t *testing.T) {
	tests := []struct {
		name  string
		ct    string
		body  string
		query url.Values
		want  []string
	}{
		{name: "form", ct: formType,
			body: "email=a%40example.com&first_name=Ann+Lee",
			want: []string{"email=a@example.com", "first_name=Ann Lee"}},
		{name: "bracketed keys", ct: formType,
			body: "meta%5BCompany%5D=Acme&user[address][city]=Paris",
			want: []string{"meta.Company=Acme", "user.address.city=Paris"}},
		{name: "empty brackets", ct: formType,
			body: "tags[]=a", want: []string{"tags=a"}},
		{name: "form with charset", ct: formType + "; charset=UTF-8",
			body: "a=1", want: []string{"a=1"}},
		{name: "NUL stripped from form values", ct: formType,
			body: "a=x%00y", want: []string{"a=xy"}},
		{name: "query when the body is empty", ct: "",
			query: url.Values{"email": {"q@example.com"}, "meta[Company]": {"Acme"}},
			want:  []string{"email=q@example.com", "meta.Company=Acme"}},
		{name: "query when the body is whitespace", ct: jsonType, body: " \n",
			query: url.Values{"email": {"q@example.com"}},
			want:  []string{"email=q@example.com"}},
		{name: "body wins over query", ct: jsonType, body: `{"email":"body@example.com"}`,
			query: url.Values{"email": {"q@example.com"}},
			want:  []string{"email=body@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parseOK(t, tc.ct, tc.body, tc.query)
			assert.Equal(t, tc.want, fields(t, p))
		})
	}
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{"leaf":"x"}` + strings.Repeat(`}`, depth-1)
}

func nestedArrays(depth int) string {
	return `{"a":` + strings.Repeat(`[`, depth-1) + `"x"` + strings.Repeat(`]`, depth-1) + `}`
}

func manyFields(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":%d`, i, i)
	}
	b.WriteString("}")
	return b.String()
}

func manyFormFields(n int) string {
	v := url.Values{}
	for i := 0; i < n; i++ {
		v.Set(fmt.Sprintf("f%d", i), "x")
	}
	return v.Encode()
}

func TestParseLimitsAccepted(t *testing.T) {
	tests := []struct {
		name, ct, body string
		fields         int
	}{
		{name: "16 levels of objects", ct: jsonType, body: nested(payload.MaxDepth), fields: 1},
		{name: "16 levels with arrays", ct: jsonType, body: nestedArrays(payload.MaxDepth), fields: 1},
		{name: "500 fields", ct: jsonType, body: manyFields(payload.MaxFields), fields: 500},
		{name: "500 form fields", ct: formType, body: manyFormFields(payload.MaxFields), fields: 500},
		{name: "value of 65536 characters", ct: jsonType,
			body: `{"a":"` + strings.Repeat("x", payload.MaxValue) + `"}`, fields: 1},
		{name: "65536 multi-byte characters", ct: jsonType,
			body: `{"a":"` + strings.Repeat("é", payload.MaxValue) + `"}`, fields: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parseOK(t, tc.ct, tc.body, nil)
			assert.Len(t, p.Fields, tc.fields)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		ct      string
		body    string
		query   url.Values
		status  int
		message string
	}{
		{name: "invalid UTF-8", ct: jsonType, body: "{\"a\":\"\xff\"}", status: 400, message: "UTF-8"},
		{name: "invalid UTF-8 percent-encoded in a form value", ct: formType, body: "a=%ff", status: 400, message: "UTF-8"},
		{name: "invalid UTF-8 percent-encoded in a form key", ct: formType, body: "%c3%28=1", status: 400, message: "UTF-8"},
		{name: "invalid UTF-8 in the query", query: url.Values{"a": {"\xfe"}}, status: 400, message: "UTF-8"},
		{name: "JSON array", ct: jsonType, body: `[{"a":1}]`, status: 400, message: "JSON object"},
		{name: "JSON string", ct: jsonType, body: `"a"`, status: 400, message: "JSON object"},
		{name: "JSON number", ct: jsonType, body: `42`, status: 400, message: "JSON object"},
		{name: "not JSON", ct: jsonType, body: `email: a@example.com`, status: 400, message: "not valid JSON"},
		{name: "trailing data", ct: jsonType, body: `{"a":1} {"b":2}`, status: 400, message: "after the JSON object"},
		{name: "trailing garbage", ct: jsonType, body: `{"a":1}]`, status: 400, message: "after the JSON object"},
		{name: "truncated object", ct: jsonType, body: `{"a":1`, status: 400, message: "not valid JSON"},
		{name: "truncated nested object", ct: jsonType, body: `{"a":{"b":1}`, status: 400, message: "not valid JSON"},
		{name: "truncated array", ct: jsonType, body: `{"a":[1,2`, status: 400, message: "not valid JSON"},
		{name: "missing value", ct: jsonType, body: `{"a":}`, status: 400, message: "not valid JSON"},
		{name: "cut off before a value", ct: jsonType, body: `{"a":`, status: 400, message: "not valid JSON"},
		{name: "cut off before a value, after spaces", ct: jsonType, body: `{"a": `, status: 400, message: "not valid JSON"},
		{name: "non-string key", ct: jsonType, body: `{1:2}`, status: 400, message: "not valid JSON"},
		{name: "duplicate key", ct: jsonType, body: `{"email":"a@x.com","email":"b@x.com"}`, status: 422, message: `"email" appears more than once`},
		{name: "duplicate nested key", ct: jsonType, body: `{"meta":{"c":1,"c":2}}`, status: 422, message: `"meta.c"`},
		// 16 levels are allowed: the error reported is the repeated key after them.
		{name: "16 levels of objects, then a repeated key", ct: jsonType,
			body: `{"deep":` + nested(payload.MaxDepth-1) + `,"deep":1}`, status: 422, message: `"deep" appears more than once`},
		{name: "16 levels with arrays, then a repeated key", ct: jsonType,
			body:   `{"deep":` + strings.Repeat(`[`, payload.MaxDepth-1) + `"x"` + strings.Repeat(`]`, payload.MaxDepth-1) + `,"deep":1}`,
			status: 422, message: `"deep" appears more than once`},
		{name: "17 levels of objects", ct: jsonType, body: nested(payload.MaxDepth + 1), status: 400, message: "nested more than 16"},
		{name: "17 levels with arrays", ct: jsonType, body: nestedArrays(payload.MaxDepth + 1), status: 400, message: "nested more than 16"},
		{name: "501 fields", ct: jsonType, body: manyFields(payload.MaxFields + 1), status: 422, message: "more than 500 fields"},
		{name: "501 form fields", ct: formType, body: manyFormFields(payload.MaxFields + 1), status: 422, message: "more than 500 fields"},
		{name: "value of 65537 characters", ct: jsonType,
			body: `{"a":"` + strings.Repeat("x", payload.MaxValue+1) + `"}`, status: 422, message: `"a" is longer than 65536`},
		{name: "form value of 65537 characters", ct: formType,
			body: "a=" + strings.Repeat("é", payload.MaxValue+1), status: 422, message: "longer than 65536"},
		{name: "empty key", ct: jsonType, body: `{"":"x"}`, status: 422, message: "empty name"},
		{name: "repeated form key", ct: formType, body: "email=a@x.com&email=b@x.com", status: 422, message: `"email" appears 2 times`},
		{name: "repeated bracketed query key", query: url.Values{"meta[Company]": {"A", "B"}}, status: 422, message: `"meta.Company" appears 2 times`},
		{name: "malformed form", ct: formType, body: "a=%zz", status: 400, message: "malformed"},
		{name: "unsupported content type", ct: "application/xml", body: `<a>1</a>`, status: 415, message: "application/xml"},
		{name: "multipart", ct: "multipart/form-data; boundary=x", body: `--x`, status: 415, message: "unsupported content type"},
		{name: "text/plain that is not JSON", ct: "text/plain", body: `hello`, status: 415, message: "unsupported"},
		{name: "empty body and no query", ct: jsonType, body: ``, status: 422, message: "no signup data"},
		{name: "whitespace body and no query", ct: formType, body: " \r\n", status: 422, message: "no signup data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := payload.Parse(tc.ct, []byte(tc.body), tc.query)
			assert.Nil(t, p)
			assert.Equal(t, tc.status, statusOf(t, err))
			assert.Contains(t, err.Error(), tc.message)
		})
	}
}

func TestGet(t *testing.T) {
	p := parseOK(t, jsonType, `{
		"email": "top@example.com",
		"data": {"email": "nested@example.com", "first_name": "Ann", "user": {"phone": "+33 1"}},
		"Campaign_ID": "c-1",
		"meta": [{"field": "Company", "value": "Acme"}]
	}`, nil)
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{path: "email", want: "top@example.com", ok: true},
		{path: "data.email", want: "nested@example.com", ok: true},
		{path: "first_name", want: "Ann", ok: true},
		{path: "data.first_name", want: "Ann", ok: true},
		{path: "phone", want: "+33 1", ok: true},
		{path: "user.phone", want: "+33 1", ok: true},
		{path: "campaign_id", want: "c-1", ok: true},
		{path: "  CAMPAIGN_ID ", want: "c-1", ok: true},
		{path: "meta.Company", want: "Acme", ok: true},
		{path: "meta.company", want: "Acme", ok: true},
		{path: "last_name", ok: false},
		{path: "data", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := p.Get(tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestGetEnvelopeOnly(t *testing.T) {
	p := parseOK(t, jsonType, `{"payload":{"data":{"email":"deep@example.com"}}}`, nil)
	got, ok := p.Get("email")
	assert.True(t, ok)
	assert.Equal(t, "deep@example.com", got)

	top := parseOK(t, jsonType, `{"email":"top@example.com"}`, nil)
	got, ok = top.Get("data.email")
	assert.True(t, ok, "an envelope path also finds the top-level field")
	assert.Equal(t, "top@example.com", got)
	got, ok = top.Get("user.data.email")
	assert.True(t, ok, "nested envelopes are stripped in any order")
	assert.Equal(t, "top@example.com", got)

	spaced := parseOK(t, formType, "+Company+=Acme&meta%5B+Size+%5D=10", nil)
	for _, f := range spaced.Fields {
		got, ok := spaced.Get(f.Path)
		assert.True(t, ok, "a field is found by its own path %q", f.Path)
		assert.Equal(t, f.Value, got)
	}
	got, ok = spaced.Get("company")
	assert.True(t, ok, "stray spaces around a field name do not hide it")
	assert.Equal(t, "Acme", got)
}

func TestNewAndPaths(t *testing.T) {
	p := payload.New([]payload.Field{{Path: "Email", Value: "a@example.com"}, {Path: "email", Value: "second"}, {Path: "data.name", Value: "Ann"}})
	assert.Equal(t, []string{"Email", "email", "data.name"}, p.Paths())
	got, ok := p.Get("email")
	assert.True(t, ok)
	assert.Equal(t, "a@example.com", got, "the first of two case-variants wins")
	got, ok = p.Get("name")
	assert.True(t, ok)
	assert.Equal(t, "Ann", got)

	var zero payload.Payload
	zero.Fields = []payload.Field{{Path: "a", Value: "1"}}
	got, ok = zero.Get("a")
	assert.True(t, ok, "a payload decoded from storage indexes itself on first use")
	assert.Equal(t, "1", got)
}

func TestGetMatchesOtherKeyStyles(t *testing.T) {
	pl, err := payload.FromJSON([]byte(`{"firstName":"Ann","Referral-Code":"X1","meta":{"Company Name":"Acme"},"user_id":"1","userId":"2"}`))
	require.NoError(t, err)
	for path, want := range map[string]string{"first_name": "Ann", "referral_code": "X1", "meta.company_name": "Acme"} {
		got, ok := pl.Get(path)
		assert.True(t, ok, path)
		assert.Equal(t, want, got, path)
	}
	_, ok := pl.Get("user-id")
	assert.False(t, ok, "two fields match loosely: none is guessed")
}

// TestParseForgivesMislabelledBodies: a form body sent as JSON, or a JSON
// body sent as a form, is read for what it is; an envelope holding a
// one-element list is looked through.
func TestParseForgivesMislabelledBodies(t *testing.T) {
	for name, tc := range map[string]struct{ ctype, body string }{
		"form under a JSON content type": {"application/json", "email=a%40b.co&first_name=Ann"},
		"JSON under a form content type": {"application/x-www-form-urlencoded", `{"email":"a@b.co","first_name":"Ann"}`},
		"form without a content type":    {"", "email=a%40b.co&first_name=Ann"},
		"list in an envelope":            {"application/json", `{"data":[{"email":"a@b.co","first_name":"Ann"}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			pl, err := payload.Parse(tc.ctype, []byte(tc.body), nil)
			require.NoError(t, err)
			email, _ := pl.Get("email")
			first, _ := pl.Get("first_name")
			assert.Equal(t, "a@b.co", email)
			assert.Equal(t, "Ann", first)
		})
	}
	_, err := payload.Parse("application/json", []byte(`not json and not a form`), nil)
	assert.Error(t, err, "still refused when it is neither")
}
