package hubspottest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// namePattern is what HubSpot accepts for property and group names.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// fieldTypesByType lists the creatable type/fieldType pairs.
var fieldTypesByType = map[string][]string{
	"string":      {"text", "textarea", "html", "phonenumber", "file", "calculation_equation"},
	"number":      {"number", "calculation_equation"},
	"date":        {"date"},
	"datetime":    {"date"},
	"enumeration": {"select", "radio", "checkbox", "booleancheckbox", "calculation_equation"},
	"bool":        {"booleancheckbox", "calculation_equation"},
}

// propertyCreate is the create-property request body.
type propertyCreate struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	GroupName            string           `json:"groupName"`
	Description          string           `json:"description"`
	Options              []PropertyOption `json:"options"`
	DisplayOrder         *int             `json:"displayOrder"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	FormField            bool             `json:"formField"`
	CalculationFormula   string           `json:"calculationFormula"`
	ExternalOptions      bool             `json:"externalOptions"`
	ReferencedObjectType string           `json:"referencedObjectType"`
	DataSensitivity      string           `json:"dataSensitivity"`
	NumberDisplayHint    string           `json:"numberDisplayHint"`
	TextDisplayHint      string           `json:"textDisplayHint"`
	ShowCurrencySymbol   bool             `json:"showCurrencySymbol"`
	CurrencyPropertyName string           `json:"currencyPropertyName"`
}

// listProperties serves GET /crm/properties/{v}/<object>.
func (s *Server) listProperties(k *objectKind) func(*exchange) {
	return func(ex *exchange) {
		s.mu.Lock()
		props := s.portals[ex.hubID].schemaOf(k).propertyList()
		s.mu.Unlock()
		if ex.r.URL.Query().Get("archived") == "true" {
			props = []Property{}
		}
		ex.json(http.StatusOK, map[string]any{"results": props})
	}
}

// createPropertyOf serves POST /crm/properties/{v}/<object>.
func (s *Server) createPropertyOf(k *objectKind) func(*exchange) {
	return func(ex *exchange) {
		var in propertyCreate
		if !decodeJSON(ex, &in) {
			return
		}
		if f := checkPropertyCreate(in); f != nil {
			ex.failure(f)
			return
		}
		s.mu.Lock()
		sc := s.portals[ex.hubID].schemaOf(k)
		p, f := createProperty(sc, in)
		if f == nil {
			p.CreatedAt, p.UpdatedAt = s.now(), s.now()
			sc.putProperty(p)
		}
		s.mu.Unlock()
		if f != nil {
			ex.failure(f)
			return
		}
		ex.json(http.StatusCreated, p.clone())
	}
}

// checkPropertyCreate validates the definition on its own.
func checkPropertyCreate(in propertyCreate) *failure {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"name", in.Name}, {"label", in.Label}, {"type", in.Type}, {"fieldType", in.FieldType}, {"groupName", in.GroupName},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return badRequest("Some required fields were not set: [%s]", strings.Join(missing, ", "))
	}
	if !namePattern.MatchString(in.Name) {
		return badRequest("Property name %q is invalid: it must start with a lowercase letter and contain only lowercase letters, digits and underscores", in.Name)
	}
	if strings.HasPrefix(in.Name, "hs_") {
		return badRequest("Property name %q is invalid: names starting with hs_ are reserved for HubSpot", in.Name)
	}
	allowed, ok := fieldTypesByType[in.Type]
	if !ok {
		return badRequest("Property type %q is not valid; use one of string, number, date, datetime, enumeration, bool", in.Type)
	}
	if !slices.Contains(allowed, in.FieldType) {
		return badRequest("fieldType %q is not valid for type %q; allowed: [%s]", in.FieldType, in.Type, strings.Join(allowed, ", "))
	}
	if in.FieldType == "calculation_equation" && in.CalculationFormula == "" {
		return badRequest("A calculation_equation property requires a calculationFormula")
	}
	if in.DataSensitivity != "" && in.DataSensitivity != "non_sensitive" {
		return badRequest("dataSensitivity %q requires the sensitive data scopes", in.DataSensitivity)
	}
	return checkOptions(in)
}

// checkOptions validates enumeration options.
func checkOptions(in propertyCreate) *failure {
	if in.Type != "enumeration" && in.Type != "bool" && len(in.Options) > 0 {
		return badRequest("Options are only allowed on enumeration and bool properties, not %q", in.Type)
	}
	if in.Type == "enumeration" && len(in.Options) == 0 && !in.ExternalOptions && in.FieldType != "calculation_equation" {
		return badRequest("Enumeration property %q requires at least one option", in.Name)
	}
	seen := map[string]bool{}
	for i, o := range in.Options {
		if o.Label == "" || o.Value == "" {
			return badRequest("Option %d of property %q needs both a label and a value", i, in.Name)
		}
		if seen[o.Value] {
			return badRequest("Option value %q is repeated in property %q", o.Value, in.Name)
		}
		seen[o.Value] = true
	}
	return nil
}

// createProperty checks the definition against the portal and builds it;
// callers hold s.mu.
func createProperty(sc *schema, in propertyCreate) (Property, *failure) {
	if _, ok := sc.groups[in.GroupName]; !ok {
		return Property{}, badRequest("Property group %q does not exist", in.GroupName)
	}
	if _, ok := sc.props[in.Name]; ok {
		return Property{}, &failure{http.StatusConflict, "OBJECT_ALREADY_EXISTS",
			fmt.Sprintf("A property named '%s' already exists.", in.Name)}
	}
	order := -1
	if in.DisplayOrder != nil {
		order = *in.DisplayOrder
	}
	calc := in.FieldType == "calculation_equation"
	return Property{
		Name: in.Name, Label: in.Label, Type: in.Type, FieldType: in.FieldType, GroupName: in.GroupName,
		Description: in.Description, Options: append([]PropertyOption{}, in.Options...), DisplayOrder: order,
		HasUniqueValue: in.HasUniqueValue, Hidden: in.Hidden, FormField: in.FormField,
		Calculated: calc, CalculationFormula: in.CalculationFormula,
		ExternalOptions: in.ExternalOptions, ReferencedObjectType: in.ReferencedObjectType,
		DataSensitivity: "non_sensitive", NumberDisplayHint: in.NumberDisplayHint, TextDisplayHint: in.TextDisplayHint,
		ShowCurrencySymbol: in.ShowCurrencySymbol, CurrencyPropertyName: in.CurrencyPropertyName,
		ModificationMetadata: ModificationMetadata{Archivable: true, ReadOnlyValue: calc},
	}, nil
}

// listGroups serves GET /crm/properties/{v}/<object>/groups.
func (s *Server) listGroups(k *objectKind) func(*exchange) {
	return func(ex *exchange) {
		s.mu.Lock()
		groups := s.portals[ex.hubID].schemaOf(k).groupList()
		s.mu.Unlock()
		ex.json(http.StatusOK, map[string]any{"results": groups})
	}
}

// createGroupOf serves POST /crm/properties/{v}/<object>/groups.
func (s *Server) createGroupOf(k *objectKind) func(*exchange) {
	return func(ex *exchange) { s.createGroup(ex, k) }
}

func (s *Server) createGroup(ex *exchange, k *objectKind) {
	var in struct {
		Name         string `json:"name"`
		Label        string `json:"label"`
		DisplayOrder *int   `json:"displayOrder"`
	}
	if !decodeJSON(ex, &in) {
		return
	}
	var f *failure
	switch {
	case in.Name == "" || strings.TrimSpace(in.Label) == "":
		f = badRequest("Some required fields were not set: name and label are required")
	case !namePattern.MatchString(in.Name):
		f = badRequest("Property group name %q is invalid: it must start with a lowercase letter and contain only lowercase letters, digits and underscores", in.Name)
	}
	if f != nil {
		ex.failure(f)
		return
	}
	g := propertyGroup{Name: in.Name, Label: in.Label, DisplayOrder: -1}
	if in.DisplayOrder != nil {
		g.DisplayOrder = *in.DisplayOrder
	}
	s.mu.Lock()
	sc := s.portals[ex.hubID].schemaOf(k)
	_, exists := sc.groups[g.Name]
	if !exists {
		sc.putGroup(g)
	}
	s.mu.Unlock()
	if exists {
		ex.fail(http.StatusConflict, "OBJECT_ALREADY_EXISTS", fmt.Sprintf("A property group named '%s' already exists.", g.Name), nil)
		return
	}
	ex.json(http.StatusCreated, g)
}
