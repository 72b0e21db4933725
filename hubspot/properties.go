package hubspot

import (
	"context"
	"fmt"
	"net/http"
)

// Property is a contact property definition.
type Property struct {
	Name                 string                `json:"name"`
	Label                string                `json:"label"`
	Type                 string                `json:"type"`      // string, number, date, datetime, enumeration, bool
	FieldType            string                `json:"fieldType"` // text, textarea, number, select, ...
	GroupName            string                `json:"groupName"`
	Description          string                `json:"description,omitempty"`
	Options              []Option              `json:"options,omitempty"`
	DisplayOrder         int                   `json:"displayOrder,omitempty"`
	HasUniqueValue       bool                  `json:"hasUniqueValue,omitempty"`
	Hidden               bool                  `json:"hidden,omitempty"`
	FormField            bool                  `json:"formField,omitempty"`
	Calculated           bool                  `json:"calculated,omitempty"`
	ExternalOptions      bool                  `json:"externalOptions,omitempty"`
	HubspotDefined       bool                  `json:"hubspotDefined,omitempty"`
	ModificationMetadata *ModificationMetadata `json:"modificationMetadata,omitempty"`
}

// Option is one allowed value of an enumeration property.
type Option struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description,omitempty"`
	DisplayOrder int    `json:"displayOrder,omitempty"`
	Hidden       bool   `json:"hidden,omitempty"`
}

// ModificationMetadata says what an app may change about a property.
type ModificationMetadata struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
	ReadOnlyOptions    bool `json:"readOnlyOptions,omitempty"`
}

// Writable reports whether an app may set values of the property: not
// read-only and not calculated.
func (p Property) Writable() bool {
	if p.Calculated {
		return false
	}
	return p.ModificationMetadata == nil || !p.ModificationMetadata.ReadOnlyValue
}

// PropertyGroup is a named group of properties.
type PropertyGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder,omitempty"`
}

// ListProperties returns every (non-archived) contact property.
func (p *Portal) ListProperties(ctx context.Context) ([]Property, error) {
	var resp struct {
		Results []Property `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.propertiesPath(""), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: list properties: %w", p.hubID, err)
	}
	return resp.Results, nil
}

// CreateProperty creates a contact property. A name that exists already
// gives a *ConflictError.
func (p *Portal) CreateProperty(ctx context.Context, prop Property) (Property, error) {
	var out Property
	if _, err := p.call(ctx, http.MethodPost, p.c.propertiesPath(""), prop, &out); err != nil {
		return Property{}, fmt.Errorf("portal %d: create property %q: %w", p.hubID, prop.Name, err)
	}
	return out, nil
}

// ListGroups returns the contact property groups.
func (p *Portal) ListGroups(ctx context.Context) ([]PropertyGroup, error) {
	var resp struct {
		Results []PropertyGroup `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.propertiesPath("/groups"), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: list property groups: %w", p.hubID, err)
	}
	return resp.Results, nil
}

// CreateGroup creates a contact property group. A name that exists already
// gives a *ConflictError.
func (p *Portal) CreateGroup(ctx context.Context, g PropertyGroup) (PropertyGroup, error) {
	var out PropertyGroup
	if _, err := p.call(ctx, http.MethodPost, p.c.propertiesPath("/groups"), g, &out); err != nil {
		return PropertyGroup{}, fmt.Errorf("portal %d: create property group %q: %w", p.hubID, g.Name, err)
	}
	return out, nil
}
