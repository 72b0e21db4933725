package payload

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFastJSONMatchesTheDecoder: for every body, the one-pass flattener
// either declines or returns exactly the decoder's fields.
func TestFastJSONMatchesTheDecoder(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		accept bool // the fast path takes it
	}{
		{"flat", `{"email":"ann@example.com","first_name":"Ann","n":3,"ok":true,"no":false,"x":null}`, true},
		{"nested and lists", `{"data":{"email":"b@example.com","meta":[{"field":"Company","value":"Bobco"}],"tags":["a","b"],"e":{},"l":[]}}`, true},
		{"escaped slashes (PHP)", `{"referral_link":"https:\/\/rf.example\/r\/ann"}`, true},
		{"unicode escapes", `{"name":"Jos\u00e9","emoji":"\ud83d\ude00","lone":"\ud800","nul":"a\u0000b"}`, true},
		{"escaped key", `{"na\u006de":"v"}`, true},
		{"numbers", `{"a":0,"b":-1.5e+10,"c":12345678901234567890,"d":1E-2,"e":-0}`, true},
		{"whitespace", " {\n\t\"a\" : \"b\" ,\r\n \"c\":[ 1 , 2 ] } \n", true},
		{"empty object", `{}`, true},
		{"duplicate key", `{"a":1,"a":2}`, false},
		{"duplicate escaped key", `{"a":1,"\u0061":2}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"missing comma", `{"a":1 "b":2}`, false},
		{"truncated", `{"a":"b`, false},
		{"leading zero", `{"a":01}`, false},
		{"plus sign", `{"a":+1}`, false},
		{"bad literal", `{"a":tru}`, false},
		{"control character", "{\"a\":\"b\x01\"}", false},
		{"bad escape", `{"a":"\x"}`, false},
		{"data after", `{"a":1} {}`, false},
		{"not an object", `["a"]`, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", true},
		{"too deep", `{"a":` + strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth) + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := fastJSON([]byte(tt.body))
			assert.Equal(t, tt.accept, ok)
			checkSame(t, []byte(tt.body))
		})
	}
}

func TestFastJSONManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"k0":null`)
	for i := 1; i < 40; i++ {
		b.WriteString(`,"k` + strings.Repeat("x", i) + `":null`)
	}
	b.WriteString(`,"kx":1}`) // repeats a key after the set became a map
	_, ok := fastJSON([]byte(b.String()))
	assert.False(t, ok)
	checkSame(t, []byte(b.String()))
}

// checkSame fails unless the fast path declines the body or agrees with
// the decoder.
func checkSame(t *testing.T, body []byte) {
	t.Helper()
	fields, ok := fastJSON(body)
	if !ok {
		return
	}
	want, werr := decodeJSON(body)
	got, gerr := finish(fields, len(body))
	if werr != nil || gerr != nil {
		// Refused after flattening (finish): the same refusal.
		if fmt.Sprint(werr) != fmt.Sprint(gerr) {
			t.Fatalf("body %q: the decoder says %v, the fast path %v", body, werr, gerr)
		}
		return
	}
	if !assert.Equal(t, want.Fields, got.Fields, "body %q", body) {
		t.FailNow()
	}
}

// FuzzFastJSON: the one-pass flattener never disagrees with the decoder.
func FuzzFastJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"ann@example.com","first_name":"Ann","referrals_count":3}`,
		`{"data":{"email":"b@example.com","meta":[{"field":"Company","value":"Bobco"}]}}`,
		`{"a":"https:\/\/x\/y","b":"\u00e9\ud83d\ude00\ud800","c":-1.5e3,"d":[true,false,null]}`,
		`{"a":1,"a":2}`, `{"a":01}`, "{\"a\":\"\xff\"}", `{"na\u0000me":"v"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSame(t, body) })
}
