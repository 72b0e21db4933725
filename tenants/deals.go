package tenants

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Deal kinds: who a source creates deals for.
const (
	DealsForLeads     = "lead"
	DealsForReferrers = "referrer"
)

// MaxDealName bounds a deal name template.
const MaxDealName = 500

// DealSettings says whether and how a source's signups become deals, beside
// their contacts: for which kinds of person, in which pipeline and stage,
// named from a template, with mapped and default deal properties.
type DealSettings struct {
	CreateFor []string          `json:"create_for"`
	Pipeline  string            `json:"pipeline"`
	Stage     string            `json:"stage"`
	Name      string            `json:"name"`
	Fields    []FieldMap        `json:"fields"`
	Defaults  map[string]string `json:"defaults"`
}

// For reports whether a signup of this kind gets a deal.
func (d *DealSettings) For(lead bool) bool {
	if d == nil {
		return false
	}
	want := DealsForReferrers
	if lead {
		want = DealsForLeads
	}
	for _, k := range d.CreateFor {
		if k == want {
			return true
		}
	}
	return false
}

// DealKeyProperty is the unique-value deal property refhub creates in a
// portal and upserts deals by (app/deals.KeyProperty).
const DealKeyProperty = "refhub_referral_key"

// DealSettingsError names what a refused ValidationError was about.
const DealSettingsError = "deal settings"

// dealOwned are the deal properties refhub sets itself.
var dealOwned = map[string]string{
	"dealname":      "the deal name comes from the name template",
	"dealstage":     "the stage is chosen above",
	"pipeline":      "the pipeline is chosen above",
	DealKeyProperty: "refhub sets it to the referral's key, which keeps one deal per referral",
}

// DealOwned says why refhub sets a deal property itself ("" when the
// settings may map it or give it a default).
func DealOwned(property string) string { return dealOwned[property] }

// placeholder is {field path} in a deal name template.
var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// Validate checks the settings' shape (the pipeline and stage are checked
// against the portal by the caller).
func (d DealSettings) Validate() error {
	var probs []string
	seen := map[string]bool{}
	for _, k := range d.CreateFor {
		switch {
		case k != DealsForLeads && k != DealsForReferrers:
			probs = append(probs, fmt.Sprintf("create_for: %q is neither %q nor %q", clip(k), DealsForLeads, DealsForReferrers))
		case seen[k]:
			probs = append(probs, fmt.Sprintf("create_for: %q is listed twice", k))
		}
		seen[k] = true
	}
	if strings.TrimSpace(d.Pipeline) == "" {
		probs = append(probs, "pipeline: choose the deal pipeline")
	}
	if strings.TrimSpace(d.Stage) == "" {
		probs = append(probs, "stage: choose the stage new deals start in")
	}
	switch {
	case strings.TrimSpace(d.Name) == "":
		probs = append(probs, "name: give a deal name template, e.g. \"Referral: {first_name}\"")
	case len(d.Name) > MaxDealName:
		probs = append(probs, fmt.Sprintf("name: the template is longer than %d bytes", MaxDealName))
	default:
		for _, m := range placeholder.FindAllStringSubmatch(d.Name, -1) {
			if strings.TrimSpace(m[1]) == "" {
				probs = append(probs, "name: {} names no Referral Factory field")
			}
		}
	}
	if len(d.Fields) > MaxMappedFields {
		probs = append(probs, fmt.Sprintf("at most %d deal fields can be mapped", MaxMappedFields))
	}
	targets := map[string]bool{}
	for i, f := range d.Fields {
		switch {
		case strings.TrimSpace(f.From) == "":
			probs = append(probs, fmt.Sprintf("deal field %d: choose the Referral Factory field to read", i+1))
		case len(f.From) > MaxFromPath:
			probs = append(probs, fmt.Sprintf("deal field %d: the Referral Factory field path is longer than %d bytes", i+1, MaxFromPath))
		case !propertyName.MatchString(f.To):
			probs = append(probs, fmt.Sprintf("deal field %d: %q is not a HubSpot property name (lowercase letters, digits and _)", i+1, clip(f.To)))
		case dealOwned[f.To] != "":
			probs = append(probs, fmt.Sprintf("deal field %d: %s cannot be mapped: %s", i+1, f.To, dealOwned[f.To]))
		case targets[f.To]:
			probs = append(probs, fmt.Sprintf("deal field %d: property %q is mapped twice", i+1, f.To))
		}
		targets[f.To] = true
	}
	if len(d.Defaults) > MaxMappedFields {
		probs = append(probs, fmt.Sprintf("at most %d deal default values", MaxMappedFields))
	}
	for _, prop := range sortedKeys(d.Defaults) {
		switch {
		case !propertyName.MatchString(prop):
			probs = append(probs, fmt.Sprintf("deal default value: %q is not a HubSpot property name", clip(prop)))
		case dealOwned[prop] != "":
			probs = append(probs, fmt.Sprintf("deal default value: %s cannot have one: %s", prop, dealOwned[prop]))
		case len(d.Defaults[prop]) > 65536:
			probs = append(probs, fmt.Sprintf("deal default value of %s is longer than 65536 bytes", prop))
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs, Of: DealSettingsError}
	}
	return nil
}

// DealName fills the name template from a payload: {path} becomes the
// value at path ("" when the payload has none); spaces left around an
// empty value are tidied.
func (d DealSettings) DealName(p Lookup) string {
	name := placeholder.ReplaceAllStringFunc(d.Name, func(m string) string {
		v, _ := p.Get(strings.TrimSpace(m[1 : len(m)-1]))
		return strings.TrimSpace(v)
	})
	return strings.Join(strings.Fields(strings.ReplaceAll(name, "()", "")), " ")
}

// DealProperties are the deal's properties from a payload: defaults, then
// mapped fields the payload has (a mapped value wins), then the name.
func (d DealSettings) DealProperties(p Lookup) map[string]string {
	out := make(map[string]string, len(d.Defaults)+len(d.Fields)+1)
	for k, v := range d.Defaults {
		out[k] = v
	}
	for _, f := range d.Fields {
		if v, ok := p.Get(f.From); ok && strings.TrimSpace(v) != "" {
			out[f.To] = strings.TrimSpace(v)
		}
	}
	out["dealname"] = d.DealName(p)
	return out
}

// DealScopes are the scopes deals need (hubspot/scopes.md).
var DealScopes = []string{"crm.objects.deals.read", "crm.objects.deals.write", "crm.schemas.deals.write"}

// MissingDealScopes lists the deal scopes the portal's install did not
// grant: a portal installed before refhub wrote deals must be reconnected
// to enable them (its contacts keep flowing meanwhile).
func (p Portal) MissingDealScopes() []string {
	var out []string
	for _, want := range DealScopes {
		if !slices.Contains(p.Scopes, want) {
			out = append(out, want)
		}
	}
	return out
}
