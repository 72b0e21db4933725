package properties_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
)

// TestCoerce: what a value becomes for each property type, and whether
// HubSpot will take it — the rule delivery sends by and the editor warns
// by.
func TestCoerce(t *testing.T) {
	stage := hubspot.Property{Name: "lifecyclestage", Type: "enumeration",
		Options: []hubspot.Option{{Label: "Lead", Value: "lead"}, {Label: "Customer", Value: "customer"}}}
	external := hubspot.Property{Name: "team", Type: "enumeration", ExternalOptions: true,
		Options: []hubspot.Option{{Label: "Sales", Value: "sales"}}}
	tests := []struct {
		name, value string
		def         hubspot.Property
		want        string
		ok          bool
	}{
		{"thousands separators", "1,234.5", hubspot.Property{Type: "number"}, "1234.5", true},
		{"not a number", "abc", hubspot.Property{Type: "number"}, "abc", false},
		{"yes", "Yes", hubspot.Property{Type: "bool"}, "true", true},
		{"off", "OFF", hubspot.Property{Type: "bool"}, "false", true},
		{"maybe", "maybe", hubspot.Property{Type: "bool"}, "maybe", false},
		{"Referral Factory's date", "2026-03-04 10:00:00", hubspot.Property{Type: "date"}, "2026-03-04", true},
		{"a date and time", "2026-03-04 10:00:00", hubspot.Property{Type: "datetime"}, "2026-03-04T10:00:00Z", true},
		{"a European date", "04.03.2026", hubspot.Property{Type: "date"}, "2026-03-04", true},
		{"epoch milliseconds", "1772359200000", hubspot.Property{Type: "date"}, "2026-03-01", true},
		{"a small integer is no date", "3", hubspot.Property{Type: "date"}, "3", false},
		{"yesterday", "yesterday", hubspot.Property{Type: "datetime"}, "yesterday", false},
		{"an option's label", "Customer", stage, "customer", true},
		{"several options", "Lead; CUSTOMER", stage, "lead;customer", true},
		{"not an option", "bogus", stage, "bogus", false},
		{"one part not an option", "lead;bogus", stage, "lead;bogus", false},
		{"external options are HubSpot's to judge", "Support", external, "Support", true},
		{"no options listed", "anything", hubspot.Property{Type: "enumeration"}, "anything", true},
		{"text", "<b>anything</b>", hubspot.Property{Type: "string"}, "<b>anything</b>", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := properties.Coerce(tc.value, tc.def)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ok, ok)
		})
	}
}

// TestCoerceAll: values are trimmed and coerced where the portal defines
// the property; empty values and unknown properties are left alone, and
// without definitions everything is sent as received.
func TestCoerceAll(t *testing.T) {
	defs := map[string]hubspot.Property{"n": {Type: "number"}, "b": {Type: "bool"}}
	props := map[string]string{"n": " 1,000 ", "b": "", "other": " kept "}
	properties.CoerceAll(props, defs)
	assert.Equal(t, map[string]string{"n": "1000", "b": "", "other": " kept "}, props)

	raw := map[string]string{"n": " 1,000 "}
	properties.CoerceAll(raw, nil)
	assert.Equal(t, " 1,000 ", raw["n"])
}

// TestIsOption: the editor's select offers a value naming options by value
// or label, each part of a multi-select.
func TestIsOption(t *testing.T) {
	opts := []hubspot.Option{{Label: "Lead", Value: "lead"}, {Label: "Customer", Value: "customer"}}
	assert.True(t, properties.IsOption("LEAD", opts))
	assert.True(t, properties.IsOption("lead;Customer", opts))
	assert.False(t, properties.IsOption("lead;other", opts))
}
