package properties

import (
	"sort"
	"strings"

	"github.com/refhub/refhub/hubspot"
)

// View is a HubSpot contact property as the mapping editor and the API
// show it.
type View struct {
	Name      string           `json:"name"`
	Label     string           `json:"label"`
	Type      string           `json:"type"`
	FieldType string           `json:"field_type"`
	Group     string           `json:"group"`
	Options   []hubspot.Option `json:"options,omitempty"`
	Writable  bool             `json:"writable"`
	def       hubspot.Property
}

// ViewOf returns the view of one property.
func ViewOf(p hubspot.Property) View {
	return View{Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, Group: p.GroupName,
		Options: p.Options, Writable: p.Writable(), def: p}
}

// Coerce applies the one rule (the package's Coerce) to value for this
// property.
func (v View) Coerce(value string) (string, bool) { return Coerce(value, v.def) }

// Views lists the properties an admin can map or read, writable ones first,
// by label.
func Views(list []hubspot.Property) []View {
	out := make([]View, 0, len(list))
	for _, p := range list {
		if p.Hidden && !p.Writable() {
			continue
		}
		out = append(out, ViewOf(p))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Writable != out[j].Writable {
			return out[i].Writable
		}
		return strings.ToLower(out[i].Label) < strings.ToLower(out[j].Label)
	})
	return out
}
