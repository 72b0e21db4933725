package hubspot

import (
	"context"
	"fmt"
	"net/http"
)

// Property is a property definition of a CRM object type.
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
	return p.ListPropertiesOf(ctx, ObjectContacts)
}

// CreateProperty creates a contact property. A name that exists already
// gives a *ConflictError.
func (p *Portal) CreateProperty(ctx context.Context, prop Property) (Property, error) {
	return p.CreatePropertyOf(ctx, ObjectContacts, prop)
}

// ListGroups returns the contact property groups.
func (p *Portal) ListGroups(ctx context.Context) ([]PropertyGroup, error) {
	return p.ListGroupsOf(ctx, ObjectContacts)
}

// CreateGroup creates a contact property group. A name that exists already
// gives a *ConflictError.
func (p *Portal) CreateGroup(ctx context.Context, g PropertyGroup) (PropertyGroup, error) {
	return p.CreateGroupOf(ctx, ObjectContacts, g)
}

// ListPropertiesOf returns every (non-archived) property of an object type
// (ObjectContacts, ObjectDeals).
func (p *Portal) ListPropertiesOf(ctx context.Context, objectType string) ([]Property, error) {
	var resp struct {
		Results []Property `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.propertiesPathOf(objectType, ""), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: %s: list properties: %w", p.hubID, objectType, err)
	}
	return resp.Results, nil
}

// CreatePropertyOf creates a property of an object type. Set
// HasUniqueValue for a property to upsert by (it cannot be changed later).
// A name that exists already gives a *ConflictError.
func (p *Portal) CreatePropertyOf(ctx context.Context, objectType string, prop Property) (Property, error) {
	var out Property
	if _, err := p.call(ctx, http.MethodPost, p.c.propertiesPathOf(objectType, ""), prop, &out); err != nil {
		return Property{}, fmt.Errorf("portal %d: %s: create property %q: %w", p.hubID, objectType, prop.Name, err)
	}
	return out, nil
}

// ListGroupsOf returns the property groups of an object type.
func (p *Portal) ListGroupsOf(ctx context.Context, objectType string) ([]PropertyGroup, error) {
	var resp struct {
		Results []PropertyGroup `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.propertiesPathOf(objectType, "/groups"), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: %s: list property groups: %w", p.hubID, objectType, err)
	}
	return resp.Results, nil
}

// CreateGroupOf creates a property group of an object type. A name that
// exists already gives a *ConflictError.
func (p *Portal) CreateGroupOf(ctx context.Context, objectType string, g PropertyGroup) (PropertyGroup, error) {
	var out PropertyGroup
	if _, err := p.call(ctx, http.MethodPost, p.c.propertiesPathOf(objectType, "/groups"), g, &out); err != nil {
		return PropertyGroup{}, fmt.Errorf("portal %d: %s: create property group %q: %w", p.hubID, objectType, g.Name, err)
	}
	return out, nil
}
