package hubspottest

import (
	"net/http"
	"strings"
	"time"
)

// objectKind is a CRM object type the simulator stores: its path names, its
// type id and the scopes HubSpot asks for (the specs' security blocks).
type objectKind struct {
	plural      string // path name: "contacts"
	singular    string // webhook prefix: "contact"
	typeID      string // "0-1"
	upper       string // in messages: "CONTACT"
	readScope   string // crm.objects.<plural>.read
	writeScope  string // crm.objects.<plural>.write
	schemaRead  string // crm.schemas.<plural>.read
	schemaWrite string // crm.schemas.<plural>.write
}

var (
	contactsKind = &objectKind{plural: "contacts", singular: "contact", typeID: "0-1", upper: "CONTACT",
		readScope: scopeContactsRead, writeScope: scopeContactsWrite,
		schemaRead: scopeSchemasRead, schemaWrite: scopeSchemasWrite}
	dealsKind = &objectKind{plural: "deals", singular: "deal", typeID: "0-3", upper: "DEAL",
		readScope: "crm.objects.deals.read", writeScope: "crm.objects.deals.write",
		schemaRead: "crm.schemas.deals.read", schemaWrite: "crm.schemas.deals.write"}
)

// kindFromPath resolves an object type the way HubSpot does in a path:
// plural, singular or type id, in any case. Nil means HubSpot's "Unable to
// infer object type".
func kindFromPath(name string) *objectKind {
	n := strings.ToLower(name)
	for _, k := range []*objectKind{contactsKind, dealsKind} {
		if n == k.plural || n == k.singular || n == k.typeID {
			return k
		}
	}
	return nil
}

// unknownObjectType answers what HubSpot answers for an object type it does
// not know: 400 with a message and no category.
func (ex *exchange) unknownObjectType(name string) {
	ex.failWith(http.StatusBadRequest, apiError{Message: "Unable to infer object type from: " + name})
}

// anyScopeOf accepts any of the object's read or write scopes; the first
// is the one a 403 names.
func (k *objectKind) anyScopeOf() []string {
	return []string{k.readScope, k.writeScope}
}

// schemaReadScopes are the scopes that may read the object's property
// definitions and pipelines: its schema read scope or any object scope.
func (k *objectKind) schemaReadScopes() []string {
	return []string{k.schemaRead, k.readScope, k.writeScope}
}

// schema is one object type's property definitions and groups.
type schema struct {
	props     map[string]*Property
	propOrder []string
	groups    map[string]*propertyGroup
	grpOrder  []string
}

// newSchema builds a schema from standard groups and properties.
func newSchema(groups []propertyGroup, props []Property, now time.Time) schema {
	sc := schema{props: make(map[string]*Property), groups: make(map[string]*propertyGroup)}
	for _, g := range groups {
		sc.putGroup(g)
	}
	for i, p := range props {
		p.DisplayOrder = i
		p.CreatedAt, p.UpdatedAt = now, now
		sc.putProperty(p)
	}
	return sc
}

// schemaOf returns the portal's schema of kind k.
func (pt *portal) schemaOf(k *objectKind) *schema {
	if k == dealsKind {
		return &pt.dealSchema
	}
	return &pt.schema
}
