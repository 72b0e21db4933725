package hubspot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot"
)

func findProperty(props []hubspot.Property, name string) (hubspot.Property, bool) {
	for _, p := range props {
		if p.Name == name {
			return p, true
		}
	}
	return hubspot.Property{}, false
}

func TestListProperties(t *testing.T) {
	e := newEnv(t)
	props, err := e.portal.ListProperties(context.Background())
	require.NoError(t, err)
	assertCRMRequest(t, e.rec.Last(t), http.MethodGet, "/crm/properties/2026-03/contacts", e.access)

	tests := []struct {
		name      string
		typ       string
		fieldType string
		writable  bool
	}{
		{name: "email", typ: "string", fieldType: "text", writable: true},
		{name: "firstname", typ: "string", fieldType: "text", writable: true},
		{name: "hs_object_id", typ: "number", fieldType: "number", writable: false},
		{name: "hs_email_domain", typ: "string", fieldType: "text", writable: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := findProperty(props, tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.typ, p.Type)
			assert.Equal(t, tc.fieldType, p.FieldType)
			assert.Equal(t, tc.writable, p.Writable())
			assert.True(t, p.HubspotDefined)
			assert.NotEmpty(t, p.Label)
			assert.NotEmpty(t, p.GroupName)
		})
	}
}

func TestPropertyWritable(t *testing.T) {
	tests := []struct {
		name string
		p    hubspot.Property
		want bool
	}{
		{"no metadata", hubspot.Property{}, true},
		{"writable metadata", hubspot.Property{ModificationMetadata: &hubspot.ModificationMetadata{}}, true},
		{"read-only value", hubspot.Property{ModificationMetadata: &hubspot.ModificationMetadata{ReadOnlyValue: true}}, false},
		{"calculated", hubspot.Property{Calculated: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.p.Writable()) })
	}
}

func TestCreateProperty(t *testing.T) {
	e := newEnv(t)
	in := hubspot.Property{
		Name: "referral_source", Label: "Referral source", Type: "enumeration", FieldType: "select",
		GroupName: "contactinformation", Description: "Where the referral came from",
		Options: []hubspot.Option{{Label: "Friend", Value: "friend"}, {Label: "Partner", Value: "partner"}},
	}
	got, err := e.portal.CreateProperty(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, "referral_source", got.Name)
	assert.Equal(t, "enumeration", got.Type)
	assert.Len(t, got.Options, 2)
	assert.True(t, got.Writable())

	req := e.rec.Last(t)
	assertCRMRequest(t, req, http.MethodPost, "/crm/properties/2026-03/contacts", e.access)
	var body map[string]any
	require.NoError(t, json.Unmarshal(req.Body, &body))
	assert.Equal(t, "select", body["fieldType"])
	assert.NotContains(t, body, "modificationMetadata", "unset optional fields are omitted")

	props, err := e.portal.ListProperties(context.Background())
	require.NoError(t, err)
	_, ok := findProperty(props, "referral_source")
	assert.True(t, ok, "the new property is listed")

	t.Run("existing name", func(t *testing.T) {
		_, err := e.portal.CreateProperty(context.Background(), in)
		var ce *hubspot.ConflictError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "OBJECT_ALREADY_EXISTS", ce.Category)
		assert.Empty(t, ce.ExistingID)
		assert.Contains(t, err.Error(), `create property "referral_source"`)
	})

	t.Run("invalid definition", func(t *testing.T) {
		_, err := e.portal.CreateProperty(context.Background(), hubspot.Property{
			Name: "Bad Name", Label: "x", Type: "string", FieldType: "text", GroupName: "contactinformation"})
		var ve *hubspot.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.Message, "Bad Name")
		assert.Empty(t, ve.Properties)
	})
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	groups, err := e.portal.ListGroups(context.Background())
	require.NoError(t, err)
	assertCRMRequest(t, e.rec.Last(t), http.MethodGet, "/crm/properties/2026-03/contacts/groups", e.access)
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	assert.Contains(t, names, "contactinformation")

	g, err := e.portal.CreateGroup(context.Background(), hubspot.PropertyGroup{Name: "referral_factory", Label: "Referral Factory"})
	require.NoError(t, err)
	assert.Equal(t, hubspot.PropertyGroup{Name: "referral_factory", Label: "Referral Factory", DisplayOrder: -1}, g)
	assertCRMRequest(t, e.rec.Last(t), http.MethodPost, "/crm/properties/2026-03/contacts/groups", e.access)

	_, err = e.portal.CreateGroup(context.Background(), hubspot.PropertyGroup{Name: "referral_factory", Label: "Again"})
	var ce *hubspot.ConflictError
	assert.ErrorAs(t, err, &ce)
}
