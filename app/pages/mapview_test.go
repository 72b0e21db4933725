package pages

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
)

// TestTypeWarning: the mapping editor predicts HubSpot refusing a sample
// value for the property's type, and stays quiet for values delivery
// converts or sends as they are (external options).
func TestTypeWarning(t *testing.T) {
	stage := properties.ViewOf(hubspot.Property{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: "enumeration",
		Options: []hubspot.Option{{Label: "Lead", Value: "lead"}, {Label: "Customer", Value: "customer"}}})
	external := properties.ViewOf(hubspot.Property{Name: "owner_team", Label: "Team", Type: "enumeration", ExternalOptions: true,
		Options: []hubspot.Option{{Label: "Sales", Value: "sales"}}})
	cases := []struct {
		name  string
		prop  properties.View
		value string
		warns bool
	}{
		{"text into a number", properties.ViewOf(hubspot.Property{Name: "n", Type: "number"}), "abc", true},
		{"a number", properties.ViewOf(hubspot.Property{Name: "n", Type: "number"}), "1,234.5", false},
		{"text into a date", properties.ViewOf(hubspot.Property{Name: "d", Type: "date"}), "yesterday", true},
		{"an ISO date", properties.ViewOf(hubspot.Property{Name: "d", Type: "date"}), "2026-03-01", false},
		{"Referral Factory's date", properties.ViewOf(hubspot.Property{Name: "d", Type: "datetime"}), "2026-03-01 10:00:00", false},
		{"epoch milliseconds", properties.ViewOf(hubspot.Property{Name: "d", Type: "date"}), "1772359200000", false},
		{"a small integer is no date", properties.ViewOf(hubspot.Property{Name: "d", Type: "date"}), "3", true},
		{"yes into a checkbox", properties.ViewOf(hubspot.Property{Name: "b", Type: "bool"}), "Yes", false},
		{"maybe into a checkbox", properties.ViewOf(hubspot.Property{Name: "b", Type: "bool"}), "maybe", true},
		{"an option's value", stage, "lead", false},
		{"an option's label", stage, "Customer", false},
		{"several options", stage, "lead;customer", false},
		{"not an option", stage, "bogus", true},
		{"options HubSpot fills from elsewhere", external, "Support", false},
		{"anything into text", properties.ViewOf(hubspot.Property{Name: "s", Type: "string"}), "<b>anything</b>", false},
		{"empty", properties.ViewOf(hubspot.Property{Name: "n", Type: "number"}), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := typeWarning(c.prop, c.value, c.value)
			assert.Equal(t, c.warns, got != "", "warning: %q", got)
		})
	}
}
