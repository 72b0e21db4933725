package tenants_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/tenants"
)

func validMapping() tenants.Mapping {
	return tenants.Mapping{
		Fields: []tenants.FieldMap{
			{From: "email", To: "email"},
			{From: "first_name", To: "firstname"},
			{From: "meta.Company", To: "company"},
		},
		Defaults:   map[string]string{"lifecyclestage": "lead"},
		OnExisting: tenants.Update,
	}
}

func TestMappingValidate(t *testing.T) {
	tooMany := validMapping()
	for i := len(tooMany.Fields); i <= tenants.MaxMappedFields; i++ {
		tooMany.Fields = append(tooMany.Fields, tenants.FieldMap{From: fmt.Sprintf("f%d", i), To: fmt.Sprintf("prop_%d", i)})
	}
	atMost := tooMany
	atMost.Fields = tooMany.Fields[:tenants.MaxMappedFields]
	tests := []struct {
		name   string
		modify func(m *tenants.Mapping)
		m      *tenants.Mapping
		want   []string
	}{
		{name: "valid", modify: func(*tenants.Mapping) {}},
		{name: "default mapping is valid", m: ptr(tenants.DefaultMapping())},
		{name: "every policy is valid", modify: func(m *tenants.Mapping) { m.OnExisting = tenants.FillEmpty }},
		{name: "unknown policy", modify: func(m *tenants.Mapping) { m.OnExisting = "merge" },
			want: []string{`on_existing must be update, skip or fill_empty, not "merge"`}},
		{name: "missing policy", modify: func(m *tenants.Mapping) { m.OnExisting = "" },
			want: []string{`on_existing must be update, skip or fill_empty, not ""`}},
		{name: "too many fields", m: &tooMany,
			want: []string{"at most 100 fields can be mapped"}},
		{name: "as many fields as allowed", m: &atMost},
		{name: "empty source field", modify: func(m *tenants.Mapping) { m.Fields[1].From = "  " },
			want: []string{"field 2: choose the Referral Factory field to read"}},
		{name: "bad property name", modify: func(m *tenants.Mapping) { m.Fields[1].To = "First Name" },
			want: []string{`field 2: "First Name" is not a HubSpot property name (lowercase letters, digits and _)`}},
		{name: "property name starting with a digit", modify: func(m *tenants.Mapping) { m.Fields[2].To = "1company" },
			want: []string{`field 3: "1company" is not a HubSpot property name (lowercase letters, digits and _)`}},
		{name: "property mapped twice", modify: func(m *tenants.Mapping) { m.Fields[2].To = "firstname" },
			want: []string{`field 3: property "firstname" is mapped twice`}},
		{name: "no email", modify: func(m *tenants.Mapping) { m.Fields = m.Fields[1:] },
			want: []string{"map a Referral Factory field to the HubSpot property email: contacts are matched by email"}},
		{name: "bad default name", modify: func(m *tenants.Mapping) { m.Defaults["Bad-Name"] = "x" },
			want: []string{`default value: "Bad-Name" is not a HubSpot property name`}},
		{name: "email default", modify: func(m *tenants.Mapping) { m.Defaults["email"] = "x@example.com" },
			want: []string{"email cannot have a default value: every contact needs its own"}},
		{name: "several problems in order", modify: func(m *tenants.Mapping) {
			m.OnExisting = "x"
			m.Fields = []tenants.FieldMap{{From: "", To: "email"}, {From: "a", To: "A"}}
			m.Defaults = map[string]string{"email": "e", "Zed": "z"}
		}, want: []string{
			`on_existing must be update, skip or fill_empty, not "x"`,
			"field 1: choose the Referral Factory field to read",
			`field 2: "A" is not a HubSpot property name (lowercase letters, digits and _)`,
			`default value: "Zed" is not a HubSpot property name`,
			"email cannot have a default value: every contact needs its own",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validMapping()
			if tc.m != nil {
				m = *tc.m
			} else {
				tc.modify(&m)
			}
			err := m.Validate()
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			var ve *tenants.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.want, ve.Problems)
			assert.Equal(t, "invalid mapping: "+strings.Join(tc.want, "; "), err.Error())
		})
	}
}

func ptr[T any](v T) *T { return &v }

// lookup builds a normalized payload from path=value pairs.
func lookup(kv ...string) *payload.Payload {
	var fs []payload.Field
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, payload.Field{Path: kv[i], Value: kv[i+1]})
	}
	return payload.New(fs)
}

func TestMappingApply(t *testing.T) {
	tests := []struct {
		name     string
		mapping  tenants.Mapping
		payload  *payload.Payload
		want     map[string]string
		wantErr  []string
		noErrMsg []string
	}{
		{name: "maps fields and fills defaults",
			mapping: validMapping(),
			payload: lookup("email", "ann@example.com", "first_name", "Ann", "meta.Company", "Acme", "ignored", "x"),
			want:    map[string]string{"email": "ann@example.com", "firstname": "Ann", "company": "Acme", "lifecyclestage": "lead"}},
		{name: "email trimmed and lowercased",
			mapping: validMapping(),
			payload: lookup("email", "  Ann.Lee@Example.COM \n"),
			want:    map[string]string{"email": "ann.lee@example.com", "lifecyclestage": "lead"}},
		{name: "defaults only fill unset properties",
			mapping: tenants.Mapping{OnExisting: tenants.Update,
				Fields:   []tenants.FieldMap{{From: "email", To: "email"}, {From: "first_name", To: "firstname"}, {From: "company", To: "company"}, {From: "city", To: "city"}},
				Defaults: map[string]string{"firstname": "Friend", "company": "Unknown Inc", "city": "Paris", "jobtitle": "", "lifecyclestage": "lead"}},
			payload: lookup("email", "a@example.com", "first_name", "Ann", "company", "   "),
			want:    map[string]string{"email": "a@example.com", "firstname": "Ann", "company": "Unknown Inc", "city": "Paris", "lifecyclestage": "lead"}},
		{name: "non-email values are kept as sent",
			mapping: validMapping(),
			payload: lookup("email", "a@example.com", "first_name", "  Ann  "),
			want:    map[string]string{"email": "a@example.com", "firstname": "  Ann  ", "lifecyclestage": "lead"}},
		{name: "email found under an envelope",
			mapping: validMapping(),
			payload: lookup("data.email", "Env@Example.com", "data.first_name", "Eve"),
			want:    map[string]string{"email": "env@example.com", "firstname": "Eve", "lifecyclestage": "lead"}},
		{name: "missing email lists the received paths",
			mapping: validMapping(),
			payload: lookup("first_name", "Ann", "meta.Company", "Acme"),
			wantErr: []string{`the mapping reads the email from "email" and the payload has no value there`,
				"(fields received: first_name, meta.Company)"}},
		{name: "blank email",
			mapping: validMapping(),
			payload: lookup("email", "   "),
			wantErr: []string{`reads the email from "email"`, "(fields received: email)"}},
		{name: "no fields at all",
			mapping: validMapping(),
			payload: lookup(),
			wantErr: []string{"(fields received: none)"}},
		{name: "many fields are abbreviated",
			mapping: validMapping(),
			payload: lookup("a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1",
				"i", "1", "j", "1", "k", "1", "l", "1", "m", "1", "n", "1"),
			wantErr:  []string{"a, b, c, d, e, f, g, h, i, j, k, l and 2 more"},
			noErrMsg: []string{"m, n"}},
		{name: "as many fields as are listed",
			mapping: validMapping(),
			payload: lookup("a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1",
				"i", "1", "j", "1", "k", "1", "l", "1"),
			wantErr:  []string{"(fields received: a, b, c, d, e, f, g, h, i, j, k, l)"},
			noErrMsg: []string{"more"}},
		{name: "email with CR/LF",
			mapping: validMapping(),
			payload: lookup("email", "a@example.com\r\nBcc: victim@example.com"),
			wantErr: []string{"contains spaces, line breaks or control characters"}},
		{name: "email with a space",
			mapping: validMapping(),
			payload: lookup("email", "ann lee@example.com"),
			wantErr: []string{"contains spaces, line breaks or control characters"}},
		{name: "email with a tab",
			mapping: validMapping(),
			payload: lookup("email", "ann\t@example.com"),
			wantErr: []string{"contains spaces"}},
		{name: "email with a control character",
			mapping: validMapping(),
			payload: lookup("email", "ann\x07@example.com"),
			wantErr: []string{"control characters"}},
		{name: "email of 254 characters, the most there can be",
			mapping: validMapping(),
			payload: lookup("email", strings.Repeat("a", 242)+"@example.com"),
			want:    map[string]string{"email": strings.Repeat("a", 242) + "@example.com", "lifecyclestage": "lead"}},
		{name: "email longer than 254",
			mapping: validMapping(),
			payload: lookup("email", strings.Repeat("a", 250)+"@example.com"),
			wantErr: []string{"longer than 254 characters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.mapping.Apply(tc.payload)
			if tc.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, got)
				assert.True(t, errors.Is(err, tenants.ErrNoEmail), "want ErrNoEmail, got %v", err)
				var ne *tenants.NoEmailError
				require.ErrorAs(t, err, &ne, "the problem travels typed, not inside a string")
				assert.Equal(t, "no email: "+ne.Problem, err.Error())
				for _, s := range tc.wantErr {
					assert.Contains(t, ne.Problem, s)
				}
				for _, s := range tc.noErrMsg {
					assert.NotContains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		p     tenants.Policy
		valid bool
	}{
		{tenants.Update, true}, {tenants.Skip, true}, {tenants.FillEmpty, true}, {"overwrite", false}, {"", false},
	}
	for _, tc := range tests {
		t.Run(string(tc.p), func(t *testing.T) {
			assert.Equal(t, tc.valid, tc.p.Valid())
			assert.Equal(t, tc.valid, tc.p.Describe() != "")
		})
	}
}

func TestSourceRouting(t *testing.T) {
	campaignMapping := validMapping()
	campaignMapping.OnExisting = tenants.Skip
	otherMapping := validMapping()
	otherMapping.OnExisting = tenants.FillEmpty
	src := tenants.Source{
		HubID:   100,
		Mapping: validMapping(),
		Routes: []tenants.Route{
			{CampaignID: "c1", HubID: 200, Mapping: campaignMapping},
			{CampaignID: "c2", HubID: 100, Mapping: otherMapping},
			{CampaignID: "c3", HubID: 200, Mapping: otherMapping},
			{CampaignID: "c4", HubID: 300, Mapping: otherMapping},
		},
	}

	routes := []struct {
		name     string
		campaign string
		hub      int64
		policy   tenants.Policy
		key      string
	}{
		{name: "no campaign", campaign: "", hub: 100, policy: tenants.Update, key: tenants.DefaultRoute},
		{name: "routed campaign", campaign: "c1", hub: 200, policy: tenants.Skip, key: "campaign:c1"},
		{name: "campaign on the default portal", campaign: "c2", hub: 100, policy: tenants.FillEmpty, key: "campaign:c2"},
		{name: "unknown campaign", campaign: "c9", hub: 100, policy: tenants.Update, key: tenants.DefaultRoute},
	}
	for _, tc := range routes {
		t.Run("Route/"+tc.name, func(t *testing.T) {
			hub, m, key := src.Route(tc.campaign)
			assert.Equal(t, tc.hub, hub)
			assert.Equal(t, tc.policy, m.OnExisting)
			assert.Equal(t, tc.key, key)
			assert.Equal(t, m, src.MappingFor(key), "MappingFor(key) must give back the routed mapping")
		})
	}

	keys := []struct {
		key    string
		policy tenants.Policy
	}{
		{key: "campaign:c1", policy: tenants.Skip},
		{key: tenants.DefaultRoute, policy: tenants.Update},
		{key: "campaign:deleted", policy: tenants.Update},
		{key: "c1", policy: tenants.Update},
	}
	for _, tc := range keys {
		t.Run("MappingFor/"+tc.key, func(t *testing.T) {
			assert.Equal(t, tc.policy, src.MappingFor(tc.key).OnExisting)
		})
	}

	assert.Equal(t, []int64{100, 200, 300}, src.Portals(), "each portal once, default first")
	assert.Equal(t, []int64{7}, (&tenants.Source{HubID: 7}).Portals())
}

func TestKeysAndIDs(t *testing.T) {
	assert.Equal(t, "{p:42}", tenants.PortalTag(42))
	assert.Equal(t, "{p:42}:lane", tenants.PortalKey(42, "lane"))

	id := tenants.NewID("src")
	assert.Regexp(t, `^src_[a-z2-7]{16}$`, id)
	assert.NotEqual(t, id, tenants.NewID("src"))

	secret := tenants.NewSecret()
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, secret, "256 bits, base64url without padding")
	assert.NotEqual(t, secret, tenants.NewSecret())
	assert.Regexp(t, `^[0-9a-f]{64}$`, tenants.HashSecret(secret))
	assert.Equal(t, tenants.HashSecret("x"), tenants.HashSecret("x"))
	assert.NotEqual(t, tenants.HashSecret("x"), tenants.HashSecret("y"))
}
