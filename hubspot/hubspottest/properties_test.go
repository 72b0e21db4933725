package hubspottest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func listProperties(t *testing.T, e *env, at string) map[string]hubspottest.Property {
	t.Helper()
	res := e.get(propsPath, at)
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	var body struct {
		Results []hubspottest.Property `json:"results"`
	}
	res.decode(t, &body)
	out := map[string]hubspottest.Property{}
	for _, p := range body.Results {
		out[p.Name] = p
	}
	return out
}

func TestStandardProperties(t *testing.T) {
	e := newEnv(t)
	props := listProperties(t, e, e.token(hubAcme))
	for _, name := range []string{"email", "firstname", "lastname", "phone", "mobilephone", "company", "website", "jobtitle",
		"address", "city", "state", "zip", "country", "message", "date_of_birth", "lifecyclestage", "hs_lead_status",
		"hs_language", "hubspot_owner_id", "hs_object_id", "createdate", "lastmodifieddate", "hs_email_domain",
		"num_associated_deals", "hs_analytics_source", "hs_analytics_num_page_views", "notes_last_updated"} {
		p, ok := props[name]
		require.True(t, ok, name)
		assert.True(t, p.HubspotDefined, name)
		assert.False(t, p.Archived, name)
		assert.NotNil(t, p.Options, name)
	}
	email := props["email"]
	assert.Equal(t, "string", email.Type)
	assert.Equal(t, "text", email.FieldType)
	assert.Equal(t, "contactinformation", email.GroupName)
	assert.False(t, email.ModificationMetadata.ReadOnlyValue)
	assert.Equal(t, "phonenumber", props["phone"].FieldType)
	assert.Equal(t, "textarea", props["message"].FieldType)

	lc := props["lifecyclestage"]
	assert.Equal(t, "enumeration", lc.Type)
	assert.Equal(t, "radio", lc.FieldType)
	var values []string
	for _, o := range lc.Options {
		values = append(values, o.Value)
	}
	assert.Equal(t, []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"}, values)
	assert.Len(t, props["hs_lead_status"].Options, 8)
	assert.True(t, props["hubspot_owner_id"].ExternalOptions)
	assert.Equal(t, "OWNER", props["hubspot_owner_id"].ReferencedObjectType)
	for _, ro := range []string{"hs_object_id", "createdate", "lastmodifieddate", "hs_email_domain", "num_associated_deals", "hs_analytics_source", "hs_analytics_num_page_views", "notes_last_updated"} {
		assert.True(t, props[ro].ModificationMetadata.ReadOnlyValue, ro)
	}
	assert.True(t, props["hs_email_domain"].Calculated)

	res := e.get(propsPath, e.token(hubAcme))
	assert.Contains(t, string(res.body), `"modificationMetadata":{"archivable":false,"readOnlyDefinition":true,"readOnlyValue":false}`)
}

func TestCreateProperty(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	res := e.postJSON(propsPath, at, map[string]any{
		"name": "referral_code", "label": "Referral code", "type": "string", "fieldType": "text",
		"groupName": "contactinformation", "description": "Code from Referral Factory", "formField": false,
	})
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	var p hubspottest.Property
	res.decode(t, &p)
	assert.Equal(t, "referral_code", p.Name)
	assert.False(t, p.HubspotDefined)
	assert.False(t, p.ModificationMetadata.ReadOnlyValue)
	assert.True(t, p.ModificationMetadata.Archivable)
	assert.Equal(t, -1, p.DisplayOrder)
	assert.False(t, p.CreatedAt.IsZero())
	assert.Contains(t, listProperties(t, e, at), "referral_code")
	assert.NotContains(t, listProperties(t, e, e.token(hubGlobex)), "referral_code", "per portal")

	body := e.postJSON(propsPath, at, map[string]any{
		"name": "referral_code", "label": "Again", "type": "string", "fieldType": "text", "groupName": "contactinformation",
	}).apiError(t, http.StatusConflict, "OBJECT_ALREADY_EXISTS")
	assert.Equal(t, "A property named 'referral_code' already exists.", body.Message)

	up := e.postJSON(upsertPath, at, inputs(upsertInput("r@x.test", map[string]string{"referral_code": "ABC"})))
	assert.Equal(t, http.StatusOK, up.status, "the new property is writable: %s", up.body)
}

func TestCreatePropertyValidation(t *testing.T) {
	base := func(kv ...any) map[string]any {
		m := map[string]any{"name": "my_prop", "label": "My prop", "type": "string", "fieldType": "text", "groupName": "contactinformation"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	opts := []map[string]any{{"label": "A", "value": "a"}, {"label": "B", "value": "b"}}
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"missing label", base("label", nil), "[label]"},
		{"missing several", base("type", nil, "fieldType", nil, "groupName", ""), "[type, fieldType, groupName]"},
		{"uppercase name", base("name", "MyProp"), "is invalid"},
		{"leading digit", base("name", "1prop"), "is invalid"},
		{"dash", base("name", "my-prop"), "is invalid"},
		{"hs_ prefix", base("name", "hs_mine"), "reserved"},
		{"unknown type", base("type", "json"), "not valid"},
		{"bad pair string/select", base("fieldType", "select"), "not valid for type"},
		{"bad pair number/text", base("type", "number"), "not valid for type"},
		{"bad pair date/text", base("type", "date"), "not valid for type"},
		{"enumeration without options", base("type", "enumeration", "fieldType", "select"), "requires at least one option"},
		{"options on a string", base("options", opts), "only allowed"},
		{"option without value", base("type", "enumeration", "fieldType", "radio", "options", []map[string]any{{"label": "A"}}), "label and a value"},
		{"repeated option", base("type", "enumeration", "fieldType", "checkbox", "options", []map[string]any{{"label": "A", "value": "a"}, {"label": "A2", "value": "a"}}), "repeated"},
		{"unknown group", base("groupName", "nope"), "does not exist"},
		{"calculation without formula", base("type", "number", "fieldType", "calculation_equation"), "calculationFormula"},
		{"sensitive", base("dataSensitivity", "highly_sensitive"), "sensitive"},
		{"unknown field", base("colour", "red"), "unknown field"},
	}
	e := newEnv(t)
	at := e.token(hubAcme)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := e.postJSON(propsPath, at, tc.body).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Contains(t, body.Message, tc.want)
		})
	}
	assert.NotContains(t, listProperties(t, e, at), "my_prop")

	for _, ok := range []map[string]any{
		base("name", "p_enum", "type", "enumeration", "fieldType", "checkbox", "options", opts),
		base("name", "p_num", "type", "number", "fieldType", "number"),
		base("name", "p_date", "type", "date", "fieldType", "date"),
		base("name", "p_dt", "type", "datetime", "fieldType", "date"),
		base("name", "p_bool", "type", "bool", "fieldType", "booleancheckbox"),
		base("name", "p_html", "type", "string", "fieldType", "html"),
	} {
		res := e.postJSON(propsPath, at, ok)
		assert.Equal(t, http.StatusCreated, res.status, "%v: %s", ok, res.body)
	}
}

func TestPropertyGroups(t *testing.T) {
	e := newEnv(t)
	at := e.token(hubAcme)
	res := e.get(groupsPath, at)
	require.Equal(t, http.StatusOK, res.status)
	var list struct {
		Results []struct {
			Name         string `json:"name"`
			Label        string `json:"label"`
			DisplayOrder int    `json:"displayOrder"`
			Archived     bool   `json:"archived"`
		} `json:"results"`
	}
	res.decode(t, &list)
	var names []string
	for _, g := range list.Results {
		names = append(names, g.Name)
	}
	assert.Contains(t, names, "contactinformation")
	assert.Contains(t, names, "conversioninformation")

	res = e.postJSON(groupsPath, at, map[string]any{"name": "refhub", "label": "Refhub", "displayOrder": 3})
	require.Equal(t, http.StatusCreated, res.status, "body: %s", res.body)
	assert.JSONEq(t, `{"name":"refhub","label":"Refhub","displayOrder":3,"archived":false}`, string(res.body))

	body := e.postJSON(groupsPath, at, map[string]any{"name": "refhub", "label": "Again"}).apiError(t, http.StatusConflict, "OBJECT_ALREADY_EXISTS")
	assert.Contains(t, body.Message, "refhub")
	for _, bad := range []map[string]any{{"name": "Ref Hub", "label": "x"}, {"name": "refhub2"}, {"label": "x"}, {"name": "x", "label": "y", "extra": 1}} {
		e.postJSON(groupsPath, at, bad).apiError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	}
	res = e.postJSON(propsPath, at, map[string]any{"name": "rf_id", "label": "RF id", "type": "string", "fieldType": "text", "groupName": "refhub"})
	assert.Equal(t, http.StatusCreated, res.status, "new group usable: %s", res.body)
}

func TestSeededPropertiesAndHelpers(t *testing.T) {
	e := newEnv(t)
	e.s.AddProperty(hubAcme, hubspottest.Property{Name: "seeded", Label: "Seeded", Type: "string", FieldType: "text", GroupName: "custom_group"})
	props := e.s.Properties(hubAcme)
	var found bool
	for _, p := range props {
		found = found || p.Name == "seeded"
	}
	assert.True(t, found)
	assert.Nil(t, e.s.Properties(9999))
	res := e.get(groupsPath, e.token(hubAcme))
	assert.Contains(t, string(res.body), `"custom_group"`, "missing group created")
	assert.Panics(t, func() { e.s.AddProperty(9999, hubspottest.Property{Name: "x", GroupName: "g"}) })
}
