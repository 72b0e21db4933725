package tenants_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// FuzzMapping: any mapping that validates, applied to any payload, never
// panics, and a contact it produces has a clean, lowercased email.
func FuzzMapping(f *testing.F) {
	f.Add("email", "first_name", "firstname", "lifecyclestage", "lead", `{"email":"A@B.co","first_name":"Ann"}`)
	f.Add("data.email", "meta.Company", "company", "", "", `{"data":{"email":"x@y.z"},"meta":[{"field":"Company","value":"Acme"}]}`)
	f.Add("email", "code", "email", "email", "x@y.z", `{"email":" \t"}`)
	f.Add("mail", "x", "y_1", "z", "\n", `{"mail":"a@b.c\r\nBcc: evil@x.y"}`)
	f.Fuzz(func(t *testing.T, emailFrom, from, to, defKey, defVal, body string) {
		m := tenants.Mapping{
			Fields:     []tenants.FieldMap{{From: emailFrom, To: "email"}, {From: from, To: to}},
			Defaults:   map[string]string{defKey: defVal},
			OnExisting: tenants.Update,
		}
		if err := m.Validate(); err != nil {
			return
		}
		pl, err := payload.FromJSON([]byte(body))
		if err != nil {
			return
		}
		props, err := m.Apply(pl)
		if err != nil {
			return
		}
		email := props["email"]
		if email == "" || email != strings.ToLower(strings.TrimSpace(email)) {
			t.Fatalf("email %q is not clean", email)
		}
		for _, r := range email {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				t.Fatalf("email %q has spaces or control characters", email)
			}
		}
	})
}
