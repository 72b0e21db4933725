package hubspottest

import (
	"fmt"
	"time"
)

// Property is a contact property definition as HubSpot's properties API
// returns it.
type Property struct {
	Name                 string               `json:"name"`
	Label                string               `json:"label"`
	Type                 string               `json:"type"`
	FieldType            string               `json:"fieldType"`
	GroupName            string               `json:"groupName"`
	Description          string               `json:"description"`
	Options              []PropertyOption     `json:"options"`
	DisplayOrder         int                  `json:"displayOrder"`
	HasUniqueValue       bool                 `json:"hasUniqueValue"`
	Hidden               bool                 `json:"hidden"`
	FormField            bool                 `json:"formField"`
	Calculated           bool                 `json:"calculated"`
	CalculationFormula   string               `json:"calculationFormula,omitempty"`
	ExternalOptions      bool                 `json:"externalOptions"`
	ReferencedObjectType string               `json:"referencedObjectType,omitempty"`
	HubspotDefined       bool                 `json:"hubspotDefined"`
	DataSensitivity      string               `json:"dataSensitivity,omitempty"`
	NumberDisplayHint    string               `json:"numberDisplayHint,omitempty"`
	TextDisplayHint      string               `json:"textDisplayHint,omitempty"`
	ShowCurrencySymbol   bool                 `json:"showCurrencySymbol,omitempty"`
	CurrencyPropertyName string               `json:"currencyPropertyName,omitempty"`
	ModificationMetadata ModificationMetadata `json:"modificationMetadata"`
	CreatedAt            time.Time            `json:"createdAt"`
	UpdatedAt            time.Time            `json:"updatedAt"`
	Archived             bool                 `json:"archived"`
}

// PropertyOption is one allowed value of an enumeration property.
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// ModificationMetadata says what an integration may change about a
// property; ReadOnlyValue properties cannot be written.
type ModificationMetadata struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
	ReadOnlyOptions    bool `json:"readOnlyOptions,omitempty"`
}

// propertyGroup is a contact property group.
type propertyGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder"`
	Archived     bool   `json:"archived"`
}

// clone deep-copies p so callers cannot alias simulator state.
func (p Property) clone() Property {
	p.Options = append([]PropertyOption{}, p.Options...)
	return p
}

// hasOption reports whether v is one of the property's option values.
func (p *Property) hasOption(v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// putProperty stores a definition, keeping list order stable.
func (sc *schema) putProperty(p Property) {
	if _, ok := sc.props[p.Name]; !ok {
		sc.propOrder = append(sc.propOrder, p.Name)
	}
	cp := p.clone()
	sc.props[p.Name] = &cp
}

// putGroup stores a group, keeping list order stable.
func (sc *schema) putGroup(g propertyGroup) {
	if _, ok := sc.groups[g.Name]; !ok {
		sc.grpOrder = append(sc.grpOrder, g.Name)
	}
	sc.groups[g.Name] = &g
}

func (sc *schema) propertyList() []Property {
	out := make([]Property, 0, len(sc.propOrder))
	for _, n := range sc.propOrder {
		out = append(out, sc.props[n].clone())
	}
	return out
}

func (sc *schema) groupList() []propertyGroup {
	out := make([]propertyGroup, 0, len(sc.grpOrder))
	for _, n := range sc.grpOrder {
		out = append(out, *sc.groups[n])
	}
	return out
}

// Properties returns the portal's contact property definitions in list
// order; nil for an unknown portal.
func (s *Server) Properties(hubID int64) []Property {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.portals[hubID]
	if !ok {
		return nil
	}
	return p.propertyList()
}

// AddProperty seeds or replaces a property definition without the API's
// validation. A missing group is created; zero timestamps are set to now;
// nil Options become empty. It panics on an unknown portal or empty name.
func (s *Server) AddProperty(hubID int64, p Property) {
	if p.Name == "" {
		panic("hubspottest: AddProperty: empty property name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("AddProperty", hubID)
	now := s.now()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = now
	}
	if p.GroupName == "" {
		panic(fmt.Sprintf("hubspottest: AddProperty: property %q has no groupName", p.Name))
	}
	if _, ok := pt.groups[p.GroupName]; !ok {
		pt.putGroup(propertyGroup{Name: p.GroupName, Label: p.GroupName, DisplayOrder: -1})
	}
	pt.putProperty(p)
}
