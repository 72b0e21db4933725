package hubspottest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

// seedTypedProperties adds one custom property of each value type.
func seedTypedProperties(s *hubspottest.Server, hub int64) {
	opt := func(vs ...string) []hubspottest.PropertyOption {
		var out []hubspottest.PropertyOption
		for _, v := range vs {
			out = append(out, hubspottest.PropertyOption{Label: v, Value: v})
		}
		return out
	}
	for _, p := range []hubspottest.Property{
		{Name: "rf_count", Type: "number", FieldType: "number"},
		{Name: "rf_day", Type: "date", FieldType: "date"},
		{Name: "rf_at", Type: "datetime", FieldType: "date"},
		{Name: "rf_tags", Type: "enumeration", FieldType: "checkbox", Options: opt("a", "b", "c")},
		{Name: "rf_flag", Type: "bool", FieldType: "booleancheckbox", Options: opt("true", "false")},
	} {
		p.Label, p.GroupName = p.Name, "contactinformation"
		s.AddProperty(hub, p)
	}
}

func TestPropertyValueValidation(t *testing.T) {
	cases := []struct {
		prop, value, wantErr, stored string
	}{
		{"email", "Ann.Lee+rf@Example.co.uk", "", "ann.lee+rf@example.co.uk"},
		{"email", "foo@bar", "INVALID_EMAIL", ""},
		{"email", "foo@bar.c", "INVALID_EMAIL", ""},
		{"email", "foo bar@x.com", "INVALID_EMAIL", ""},
		{"email", "@x.com", "INVALID_EMAIL", ""},
		{"email", "a@@x.com", "INVALID_EMAIL", ""},
		{"email", "a@x..com", "INVALID_EMAIL", ""},
		{"email", "a@-x.com", "INVALID_EMAIL", ""},
		{"email", "a.@x.com", "INVALID_EMAIL", ""},
		{"email", "a@x.c0m", "INVALID_EMAIL", ""},
		{"rf_count", "42", "", "42"},
		{"rf_count", "-3.25", "", "-3.25"},
		{"rf_count", "1,000", "INVALID_INTEGER", ""},
		{"rf_count", "1.2.3", "INVALID_INTEGER", ""},
		{"rf_count", "12abc", "INVALID_INTEGER", ""},
		{"rf_count", "1e5", "INVALID_INTEGER", ""},
		{"rf_day", "2026-02-28", "", "2026-02-28"},
		{"rf_day", "1767225600000", "", "2026-01-01"},
		{"rf_day", "1767225600001", "INVALID_DATE", ""},
		{"rf_day", "2026-02-30", "INVALID_DATE", ""},
		{"rf_day", "02/03/2026", "INVALID_DATE", ""},
		{"rf_at", "2026-03-01T10:20:30Z", "", "2026-03-01T10:20:30.000Z"},
		{"rf_at", "2026-03-01T10:20:30.5+02:00", "", "2026-03-01T08:20:30.500Z"},
		{"rf_at", "1767225600123", "", "2026-01-01T00:00:00.123Z"},
		{"rf_at", "yesterday", "INVALID_DATETIME", ""},
		{"rf_tags", "a;c", "", "a;c"},
		{"rf_tags", "a;d", "INVALID_OPTION", ""},
		{"rf_flag", "true", "", "true"},
		{"rf_flag", "yes", "INVALID_BOOLEAN", ""},
		{"lifecyclestage", "customer", "", "customer"},
		{"lifecyclestage", "Customer", "INVALID_OPTION", ""},
		{"hs_language", "fr", "", "fr"},
		{"hs_language", "klingon", "INVALID_OPTION", ""},
		{"hubspot_owner_id", "123456", "", "123456"},
		{"hubspot_owner_id", "owner-1", "INVALID_OPTION", ""},
		{"phone", "+49 (0)30 1234", "", "+49 (0)30 1234"},
		{"date_of_birth", "anything goes", "", "anything goes"},
		{"num_associated_deals", "3", "READ_ONLY_VALUE", ""},
		{"rf_count", "", "", "<absent>"},
	}
	e := newEnv(t)
	seedTypedProperties(e.s, hubAcme)
	at := e.token(hubAcme)
	for _, tc := range cases {
		t.Run(tc.prop+"="+tc.value, func(t *testing.T) {
			c := e.s.SeedContact(hubAcme, map[string]string{"firstname": "V"})
			res := e.postJSON(updatePath, at, inputs(updateInput(c.ID, map[string]string{tc.prop: tc.value})))
			if tc.wantErr != "" {
				body := res.apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
				got := issues(t, body.Message)
				require.Len(t, got, 1)
				assert.Equal(t, tc.wantErr, got[0].Error)
				assert.Equal(t, tc.prop, got[0].Name)
				return
			}
			require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
			stored := e.s.Contacts(hubAcme)
			var props map[string]string
			for _, s := range stored {
				if s.ID == c.ID {
					props = s.Properties
				}
			}
			v, ok := props[tc.prop]
			if !ok {
				v = "<absent>"
			}
			assert.Equal(t, tc.stored, v)
		})
	}
}

func TestCheckboxAppend(t *testing.T) {
	e := newEnv(t)
	seedTypedProperties(e.s, hubAcme)
	c := e.s.SeedContact(hubAcme, map[string]string{"email": "t@x.test", "rf_tags": "a"})
	res := e.postJSON(updatePath, e.token(hubAcme), inputs(updateInput(c.ID, map[string]string{"rf_tags": ";b;a"})))
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	got, _ := e.s.ContactByEmail(hubAcme, "t@x.test")
	assert.Equal(t, "a;b", got.Properties["rf_tags"])
}

func TestMessageForInvalidNumber(t *testing.T) {
	e := newEnv(t)
	seedTypedProperties(e.s, hubAcme)
	body := e.postJSON(upsertPath, e.token(hubAcme), inputs(upsertInput("n@x.test", map[string]string{"rf_count": "1,5"}))).
		apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Equal(t, "1,5 was not a valid number", issues(t, body.Message)[0].Message)
}
