package payload_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/payload"
)

// TestNamesAndPathsAreBounded: a name longer than MaxKey or a path longer
// than MaxPath is refused with 422, in JSON and form bodies alike, and the
// message names the limit and quotes only the start of the name.
func TestNamesAndPathsAreBounded(t *testing.T) {
	long := strings.Repeat("A", payload.MaxKey+1)
	half := strings.Repeat("B", payload.MaxKey)
	tests := []struct {
		name, ct, body string
		message        string
	}{
		{"JSON key", jsonType, `{"email":"a@b.co","` + long + `":1}`, "field name \"AAAA"},
		{"JSON key over a list", jsonType, `{"` + long + `":[1,2,3]}`, "longer than 256 bytes"},
		{"JSON path of nested keys", jsonType, `{"` + half + `":{"` + half + `":{"c":1}}}`, "field path \"BBBB"},
		{"JSON path of a list element", jsonType, `{"` + half + `":{"` + half[:254] + `":[1]}}`, "longer than 512 bytes"},
		{"null values count too", jsonType, `{"` + long + `":null}`, "longer than 256 bytes"},
		{"form key", formType, "email=a%40b.co&" + long + "=1", "longer than 256 bytes"},
		{"form path", formType, strings.Repeat("x", payload.MaxPath+1) + "=1", "longer than 512 bytes"},
		{"form bracket segment", formType, "meta[" + long + "]=1", "field name \"AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := payload.Parse(tt.ct, []byte(tt.body), nil)
			assert.Equal(t, 422, statusOf(t, err))
			assert.Contains(t, err.Error(), tt.message)
			assert.Less(t, len(err.Error()), 200, "the message quotes the start of the name only")
		})
	}
	t.Run("query", func(t *testing.T) {
		_, err := payload.Parse("", nil, url.Values{"email": {"a@b.co"}, long: {"1"}})
		assert.Equal(t, 422, statusOf(t, err))
	})
	t.Run("at the limits", func(t *testing.T) {
		p := parseOK(t, jsonType, `{"`+half+`":{"`+half[:253]+`":[1]}}`, nil)
		assert.Len(t, p.Fields[0].Path, payload.MaxPath)
	})
}

// TestSizeIsBoundedByTheBody: keys within their limits still multiply over
// a list; the result is refused (413) once it would be larger than
// 3 × the body + 64 KiB, with a message naming the limit. A large but
// ordinary signup is accepted, and its stored size is what Size says.
func TestSizeIsBoundedByTheBody(t *testing.T) {
	list := strings.TrimSuffix(strings.Repeat("1,", 499), ",")
	body := `{"` + strings.Repeat("A", 250) + `":{"` + strings.Repeat("B", 250) + `":[` + list + `]}}`
	_, err := payload.Parse(jsonType, []byte(body), nil)
	require.Equal(t, 413, statusOf(t, err))
	assert.Contains(t, err.Error(), fmt.Sprintf("more than the %d allowed for a body of %d bytes", payload.SizeLimit(len(body)), len(body)))
	assert.Contains(t, err.Error(), "3 × the body + 64 KiB, at most 2 MiB")

	var b strings.Builder
	b.WriteString(`{"email":"big@example.com","data":{"meta":[`)
	for i := 0; i < 240; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"field":"Custom question number %d","value":"%s"}`, i, strings.Repeat("<answer & more>", 200))
	}
	b.WriteString("]}}")
	p := parseOK(t, jsonType, b.String(), nil)
	raw := storedJSON(t, p.Fields)
	assert.LessOrEqual(t, len(raw), p.Size())
	assert.Greater(t, len(raw), p.Size()-100, "Size is the stored size, not a loose bound")
	assert.LessOrEqual(t, p.Size(), payload.SizeLimit(b.Len()))
	assert.Equal(t, payload.MaxSize, payload.SizeLimit(payload.MaxSize), "the hard cap")
}

// TestPairAliasesAreBounded: a custom-field pair whose name would make a
// path longer than MaxPath keeps its own fields and gets no alias.
func TestPairAliasesAreBounded(t *testing.T) {
	name := strings.Repeat("N", payload.MaxPath)
	p := parseOK(t, jsonType, `{"meta":[{"field":"`+name+`","value":"x"},{"field":"Company","value":"Acme"}]}`, nil)
	v, ok := p.Get("meta.Company")
	assert.True(t, ok)
	assert.Equal(t, "Acme", v)
	for _, f := range p.Fields {
		assert.LessOrEqual(t, len(f.Path), payload.MaxPath)
	}
	assert.Len(t, p.Fields, 5)
}
