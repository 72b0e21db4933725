package payload_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// a *payload.Error with a 4xx status and a message of at most maxMessage
// bytes, and that every field it accepts has a non-empty, valid UTF-8 path
// of at most MaxPath bytes and a valid UTF-8 value without NUL bytes. What
// it accepts is bounded by its input: stored as JSON, the fields take at
// most Size() bytes, and Size() is at most 3 × the input + 64 KiB (and
// 2 MiB in any case).
func FuzzParse(f *testing.F) {
	seeds := []struct{ contentType, body, query string }{
		{jsonType, `{"email":"ann@example.com","first_name":"Ann","last_name":"Lee","referral_link":"https://rf.example/r/ann","referral_code":"ANN123","campaign_id":"42","campaign_name":"Spring","referrals_count":3,"qualified_referrals":1}`, ""},
		{jsonType, `{"event":"user.registered","data":{"email":"Bob@Example.com","first_name":"Bob","meta":[{"field":"Company","value":"Bobco"},{"field":"Team size","value":"11-50"}]}}`, ""},
		{jsonType, `{"user":{"email":"c@example.com","unsubscribed":false,"score":12345678901234567890,"ratio":0.25,"notes":null,"tags":["vip","beta"]}}`, ""},
		{jsonType + "; charset=utf-8", `{"payload":{"record":{"attributes":{"email":"d@example.com"}}}}`, ""},
		{formType, "email=e%40example.com&first_name=Eve&meta%5BCompany%5D=Evil+Corp&meta[Size]=10", ""},
		{"", "", "email=f%40example.com&meta[Company]=Fco&campaign_id=7"},
		{"text/plain", `{"email":"g@example.com"}`, ""},
		{jsonType, `{"a":{"b":{"c":{"d":[[[{"e":"deep"}]]]}}}}`, ""},
		{jsonType, `{"email":"x@example.com","email":"y@example.com"}`, ""},
		{jsonType, `{"na\u0000me":"v\u0000al","emoji":"\ud83d\ude00","lone":"\ud800"}`, ""},
		{formType, "a=%ff&b=%00", ""},
		{jsonType, `{"meta":[{"name":"","value":"x"},{"label":"\u0000","value":"y"},{"key":"k","value":"z"}]}`, ""},
		{jsonType, `{"a":1`, ""},
		{jsonType, `{"` + strings.Repeat("A", 300) + `":[1,1,1]}`, ""},
		{jsonType, `{"` + strings.Repeat("A", 250) + `":{"` + strings.Repeat("B", 250) + `":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}}`, ""},
		{jsonType, `{"m":[{"field":"` + strings.Repeat("F", 600) + `","value":"<&>"}]}`, ""},
		{formType, strings.Repeat("k", 600) + "=v&a%5B" + strings.Repeat("b", 300) + "%5D=1", ""},
		{"application/xml", `<email>a@example.com</email>`, ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body), s.query)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, rawQuery string) {
		query, _ := url.ParseQuery(rawQuery)
		p, err := payload.Parse(contentType, body, query)
		if err != nil {
			var pe *payload.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse returned %T (%v), want *payload.Error", err, err)
			}
			if status := apperr.Status(apperr.As(err).Code); status != 400 && status != 413 && status != 415 && status != 422 {
				t.Fatalf("Parse returned status %d (%v)", status, err)
			}
			if len(pe.Msg) > maxMessage {
				t.Fatalf("the message has %d bytes for an input of %d: %.200s…", len(pe.Msg), len(body)+len(rawQuery), pe.Msg)
			}
			if p != nil {
				t.Fatalf("Parse returned a payload and an error")
			}
			return
		}
		if p == nil {
			t.Fatal("Parse returned neither a payload nor an error")
		}
		checkBounded(t, p, inputSize(body, query))
		for i, fl := range p.Fields {
			if fl.Path == "" || len(fl.Path) > payload.MaxPath {
				t.Fatalf("field %d has an empty or too long path (%d bytes)", i, len(fl.Path))
			}
			if !utf8.ValidString(fl.Path) || !utf8.ValidString(fl.Value) {
				t.Fatalf("field %d is not valid UTF-8: %q=%q", i, fl.Path, fl.Value)
			}
			if strings.ContainsRune(fl.Value, 0) || strings.ContainsRune(fl.Path, 0) {
				t.Fatalf("field %d keeps a NUL byte: %q=%q", i, fl.Path, fl.Value)
			}
			if v, ok := p.Get(fl.Path); !ok {
				t.Fatalf("field %q is not found by its own path (got %q)", fl.Path, v)
			}
		}
	})
}

// maxMessage bounds a refusal's message: it names what is wrong, quoting at
// most short parts of the input.
const maxMessage = 400

// inputSize is what Parse read: the body, or the query when the body is
// empty.
func inputSize(body []byte, query url.Values) int {
	if len(strings.TrimSpace(string(body))) > 0 {
		return len(strings.TrimSpace(string(body)))
	}
	n := 0
	for k, vs := range query {
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	return n
}

// storedJSON is fields as the queue stores them: JSON without HTML
// escaping.
func storedJSON(t *testing.T, fields []payload.Field) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// checkBounded fails unless the payload's stored form is at most Size()
// bytes and Size() within the limit for an input of n bytes.
func checkBounded(t *testing.T, p *payload.Payload, n int) {
	t.Helper()
	raw := storedJSON(t, p.Fields)
	if len(raw) > p.Size() {
		t.Fatalf("the fields take %d bytes stored, more than Size() = %d", len(raw), p.Size())
	}
	if p.Size() > 3*n+64<<10 || p.Size() > payload.MaxSize {
		t.Fatalf("an input of %d bytes became %d bytes", n, p.Size())
	}
}
