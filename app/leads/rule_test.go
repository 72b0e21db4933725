package leads

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

// TestIsLead pins the built-in rule and a source's override, on the
// one-pass path every webhook takes and on the general one alike.
func TestIsLead(t *testing.T) {
	cases := []struct {
		name string
		body string
		rule *tenants.LeadRule
		lead bool
	}{
		{"referrer", `{"email":"a@x.com","type":"person_referring","source":"Direct","referrer_id":null}`, nil, false},
		{"invited", `{"email":"a@x.com","type":"person_invited"}`, nil, true},
		{"type in other case", `{"email":"a@x.com","Type":" Person_Invited "}`, nil, true},
		{"referrer id", `{"email":"a@x.com","referrer_id":42}`, nil, true},
		{"referrer id 0", `{"email":"a@x.com","referrer_id":0}`, nil, false},
		{"referrer code camel", `{"email":"a@x.com","referrerCode":"ABC"}`, nil, true},
		{"referrer email", `{"email":"a@x.com","referrer_email":"r@x.com"}`, nil, true},
		{"referrer email empty", `{"email":"a@x.com","referrer_email":""}`, nil, false},
		{"referrer object", `{"email":"a@x.com","referrer":{"first_name":"R"}}`, nil, true},
		{"under an envelope", `{"data":{"email":"a@x.com","referrer":{"id":7}}}`, nil, true},
		{"source referred", `{"email":"a@x.com","source":"Referred"}`, nil, true},
		{"a referrers_count is not a referrer", `{"email":"a@x.com","referrers_count":3}`, nil, false},
		{"rule matches", `{"email":"a@x.com","kind":"Invitee"}`, &tenants.LeadRule{Field: "kind", Values: []string{"invitee"}}, true},
		{"rule overrides the built-in", `{"email":"a@x.com","type":"person_invited"}`, &tenants.LeadRule{Field: "kind", Values: []string{"invitee"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := payload.FromJSON([]byte(c.body))
			assert.NoError(t, err)
			assert.Equal(t, c.lead, IsLead(c.rule, p), "one pass")
			assert.Equal(t, c.lead, IsLead(c.rule, lookup{p}), "general")
		})
	}
}

// lookup hides the payload's type, so IsLead takes its general path.
type lookup struct{ p *payload.Payload }

func (l lookup) Get(path string) (string, bool) { return l.p.Get(path) }
func (l lookup) Paths() []string                { return l.p.Paths() }

func BenchmarkIsLead(b *testing.B) {
	p, _ := payload.FromJSON([]byte(`{"id":1,"campaign_id":7,"referrer_id":null,"code":"C","url":"https://x","first_name":"A","email":"a@x.com","source":"Direct","type":"person_referring","signed_up_at":"2026-03-09","referrals_count":0}`))
	b.ReportAllocs()
	for b.Loop() {
		IsLead(nil, p)
	}
}
