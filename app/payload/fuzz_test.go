package payload_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/refhub/refhub/app/payload"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// a *payload.Error with a 4xx status, and that every field it accepts has a
// non-empty, valid UTF-8 path and a valid UTF-8 value without NUL bytes.
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
			if pe.Status != 400 && pe.Status != 415 && pe.Status != 422 {
				t.Fatalf("Parse returned status %d (%v)", pe.Status, err)
			}
			if p != nil {
				t.Fatalf("Parse returned a payload and an error")
			}
			return
		}
		if p == nil {
			t.Fatal("Parse returned neither a payload nor an error")
		}
		for i, fl := range p.Fields {
			if fl.Path == "" {
				t.Fatalf("field %d has an empty path", i)
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
