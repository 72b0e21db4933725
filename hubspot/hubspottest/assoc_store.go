package hubspottest

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
)

// Association categories HubSpot's AssociationSpec enumerates.
const (
	categoryHubSpot    = "HUBSPOT_DEFINED"
	categoryUser       = "USER_DEFINED"
	categoryIntegrator = "INTEGRATOR_DEFINED"
	categoryWork       = "WORK"
)

// HubSpot's default (unlabeled) association type ids.
const (
	typeContactToContact = 449
	typeDealToContact    = 3
	typeContactToDeal    = 4
)

// typeKey names one direction of an association type.
type typeKey struct {
	from, to string // object type ids, e.g. "0-1"
	category string
	typeID   int
}

// assocType is one direction of an association definition.
type assocType struct {
	key     typeKey
	label   *string // nil for HubSpot's unlabeled default types
	name    string  // internal name of a USER_DEFINED definition
	inverse typeKey // the same definition seen from the other side
}

// objRef names one CRM record.
type objRef struct {
	kind string // object type id
	id   int64
}

// associations is a portal's association definitions and links.
type associations struct {
	types      map[typeKey]*assocType
	order      []typeKey
	defaults   map[[2]string]typeKey // (from, to) → the default unlabeled type
	nextUserID int
	// links[from][to] holds the types linking from to to; every link is
	// stored from both sides.
	links map[objRef]map[objRef]map[typeKey]bool
}

// newAssociations installs HubSpot's default contact↔contact and
// deal↔contact types.
func newAssociations() associations {
	a := associations{types: make(map[typeKey]*assocType), defaults: make(map[[2]string]typeKey),
		nextUserID: 1, links: make(map[objRef]map[objRef]map[typeKey]bool)}
	a.definePair(contactsKind, contactsKind, categoryHubSpot, typeContactToContact, typeContactToContact, nil, nil, "")
	a.definePair(dealsKind, contactsKind, categoryHubSpot, typeDealToContact, typeContactToDeal, nil, nil, "")
	a.defaults[[2]string{contactsKind.typeID, contactsKind.typeID}] = typeKey{contactsKind.typeID, contactsKind.typeID, categoryHubSpot, typeContactToContact}
	a.defaults[[2]string{dealsKind.typeID, contactsKind.typeID}] = typeKey{dealsKind.typeID, contactsKind.typeID, categoryHubSpot, typeDealToContact}
	a.defaults[[2]string{contactsKind.typeID, dealsKind.typeID}] = typeKey{contactsKind.typeID, dealsKind.typeID, categoryHubSpot, typeContactToDeal}
	return a
}

// definePair stores a definition in both directions; a symmetric
// definition between one object type uses one type id for both.
func (a *associations) definePair(from, to *objectKind, category string, id, inverseID int, label, inverseLabel *string, name string) {
	fwd := typeKey{from.typeID, to.typeID, category, id}
	back := typeKey{to.typeID, from.typeID, category, inverseID}
	a.put(&assocType{key: fwd, label: label, name: name, inverse: back})
	if back != fwd {
		a.put(&assocType{key: back, label: inverseLabel, name: name, inverse: fwd})
	}
}

func (a *associations) put(t *assocType) {
	a.types[t.key] = t
	a.order = append(a.order, t.key)
}

// typesBetween lists the types from one object type to another, in the
// order they were defined.
func (a *associations) typesBetween(from, to *objectKind) []*assocType {
	var out []*assocType
	for _, k := range a.order {
		if k.from == from.typeID && k.to == to.typeID {
			out = append(out, a.types[k])
		}
	}
	return out
}

// hasName reports whether a user-defined definition between the two types
// (either way round) already has this internal name.
func (a *associations) hasName(from, to *objectKind, name string) bool {
	for _, t := range a.types {
		if t.name == name && (t.key.from == from.typeID && t.key.to == to.typeID ||
			t.key.from == to.typeID && t.key.to == from.typeID) {
			return true
		}
	}
	return false
}

// link stores the association of type k from one record to another, its
// inverse, and the default unlabeled association both ways, as HubSpot
// keeps an unlabeled association under every labelled one.
func (a *associations) link(from, to objRef, k typeKey) {
	keys := []typeKey{k}
	if d, ok := a.defaults[[2]string{from.kind, to.kind}]; ok {
		keys = append(keys, d)
	}
	for _, key := range keys {
		a.add(from, to, key)
		a.add(to, from, a.types[key].inverse)
	}
}

func (a *associations) add(from, to objRef, k typeKey) {
	if a.links[from] == nil {
		a.links[from] = make(map[objRef]map[typeKey]bool)
	}
	if a.links[from][to] == nil {
		a.links[from][to] = make(map[typeKey]bool)
	}
	a.links[from][to][k] = true
}

// linked returns the records of kind to linked from a record, sorted by id,
// with the types of each link.
func (a *associations) linked(from objRef, to *objectKind) ([]objRef, map[objRef][]*assocType) {
	types := make(map[objRef][]*assocType)
	for other, keys := range a.links[from] {
		if other.kind != to.typeID {
			continue
		}
		for _, k := range a.order {
			if keys[k] {
				types[other] = append(types[other], a.types[k])
			}
		}
	}
	refs := slices.SortedFunc(maps.Keys(types), func(x, y objRef) int { return cmp.Compare(x.id, y.id) })
	return refs, types
}

// forget removes every association of a record (a GDPR deletion).
func (a *associations) forget(r objRef) {
	for other := range a.links[r] {
		delete(a.links[other], r)
	}
	delete(a.links, r)
}

// labelsOf lists the labels (not the unlabeled types) among types.
func labelsOf(types []*assocType) []string {
	out := []string{}
	for _, t := range types {
		if t.label != nil {
			out = append(out, *t.label)
		}
	}
	return out
}

func (r objRef) idString() string { return strconv.FormatInt(r.id, 10) }
