package tenants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/refhub/refhub/tenants"
)

// TestDealSettingsRefusedAsDealSettings: what is wrong with deal settings
// reads as deal settings (not as a mapping), each problem saying what to
// fix, and the properties refhub sets itself cannot be mapped or given a
// default.
func TestDealSettingsRefusedAsDealSettings(t *testing.T) {
	d := tenants.DealSettings{CreateFor: []string{"lead", "lead"}, Name: "Referral {}",
		Fields:   []tenants.FieldMap{{From: "code", To: tenants.DealKeyProperty}, {From: "first_name", To: "description"}},
		Defaults: map[string]string{"dealstage": "won"}}
	err := d.Validate()
	assert.EqualError(t, err, `invalid deal settings: create_for: "lead" is listed twice; pipeline: choose the deal pipeline; `+
		`stage: choose the stage new deals start in; name: {} names no Referral Factory field; `+
		`deal field 1: refhub_referral_key cannot be mapped: refhub sets it to the referral's key, which keeps one deal per referral; `+
		`deal default value: dealstage cannot have one: the stage is chosen above`)
	assert.NotEmpty(t, tenants.DealOwned("pipeline"))
	assert.Empty(t, tenants.DealOwned("amount"))

	m := tenants.Mapping{OnExisting: tenants.Update, Fields: []tenants.FieldMap{{From: "first_name", To: "firstname"}}}
	assert.ErrorContains(t, m.Validate(), "invalid mapping: ", "a mapping's problems still read as a mapping's")
}

// mapLookup is a flat payload for the deal name tests.
type mapLookup map[string]string

func (m mapLookup) Get(path string) (string, bool) { v, ok := m[path]; return v, ok }
func (m mapLookup) Paths() []string                { return nil }

// TestDealNameTidiesEmptyValues: a field the signup lacks leaves no double
// spaces and no empty "()" in the deal's name.
func TestDealNameTidiesEmptyValues(t *testing.T) {
	d := tenants.DealSettings{Name: "  Referral: {first_name} { last_name }  ({campaign_name}) "}
	assert.Equal(t, "Referral: Ada Lovelace (Spring)",
		d.DealName(mapLookup{"first_name": " Ada ", "last_name": "Lovelace", "campaign_name": "Spring"}))
	assert.Equal(t, "Referral: Ada", d.DealName(mapLookup{"first_name": "Ada"}))
}

// TestMissingDealScopes: a portal installed without the deal scopes lists
// them, one installed with them lists none.
func TestMissingDealScopes(t *testing.T) {
	old := tenants.Portal{Scopes: []string{"crm.objects.contacts.write", "crm.objects.deals.read"}}
	assert.Equal(t, []string{"crm.objects.deals.write", "crm.schemas.deals.write"}, old.MissingDealScopes())
	assert.Empty(t, tenants.Portal{Scopes: append([]string{"oauth"}, tenants.DealScopes...)}.MissingDealScopes())
}
