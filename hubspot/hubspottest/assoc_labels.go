package hubspottest

import (
	"fmt"
	"net/http"
	"strings"
)

// labelJSON is AssociationSpecWithLabel; label is null for HubSpot's
// unlabeled types.
type labelJSON struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

func (t *assocType) json() labelJSON {
	return labelJSON{Category: t.key.category, TypeID: t.key.typeID, Label: t.label}
}

// pathKinds resolves {from} and {to}, answering HubSpot's 400 for an
// object type it cannot infer.
func pathKinds(ex *exchange) (from, to *objectKind, ok bool) {
	for _, name := range []string{"from", "to"} {
		k := kindFromPath(ex.r.PathValue(name))
		if k == nil {
			ex.unknownObjectType(ex.r.PathValue(name))
			return nil, nil, false
		}
		if name == "from" {
			from = k
		} else {
			to = k
		}
	}
	return from, to, true
}

// fromScopes makes an endpoint accept scope(k) of the path's {from}
// object type; an object type the simulator does not know needs none (the
// handler refuses it).
func fromScopes(scope func(*objectKind) []string) func(*http.Request) []string {
	return func(r *http.Request) []string {
		if k := kindFromPath(r.PathValue("from")); k != nil {
			return scope(k)
		}
		return nil
	}
}

// handleListLabels serves GET /crm/associations/{v}/{from}/{to}/labels:
// every association type from one object type to the other, HubSpot's
// unlabeled default included (label null).
func (s *Server) handleListLabels(ex *exchange) {
	from, to, ok := pathKinds(ex)
	if !ok {
		return
	}
	out := []labelJSON{}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	for _, t := range pt.assoc.typesBetween(from, to) {
		out = append(out, t.json())
	}
	s.mu.Unlock()
	ex.json(http.StatusOK, map[string]any{"results": out})
}

// labelCreate is PublicAssociationDefinitionCreateRequest.
type labelCreate struct {
	Label        string `json:"label"`
	Name         string `json:"name"`
	InverseLabel string `json:"inverseLabel"`
}

// handleCreateLabel serves POST /crm/associations/{v}/{from}/{to}/labels.
// It creates a USER_DEFINED definition with one type id per direction
// (the second carries inverseLabel, or label again when there is none) and
// answers both. A name already used between the two object types is
// refused with 409 CONFLICT, so creating a label twice never duplicates it.
func (s *Server) handleCreateLabel(ex *exchange) {
	from, to, ok := pathKinds(ex)
	if !ok {
		return
	}
	var in labelCreate
	if !decodeJSON(ex, &in) {
		return
	}
	if f := checkLabelCreate(in); f != nil {
		ex.failure(f)
		return
	}
	inverse := in.InverseLabel
	if inverse == "" {
		inverse = in.Label
	}
	s.mu.Lock()
	a := &s.portals[ex.hubID].assoc
	exists := a.hasName(from, to, in.Name)
	var created []labelJSON
	if !exists {
		id := a.nextUserID
		a.nextUserID += 2
		a.definePair(from, to, categoryUser, id, id+1, &in.Label, &inverse, in.Name)
		fwd := a.types[typeKey{from.typeID, to.typeID, categoryUser, id}]
		created = []labelJSON{fwd.json(), a.types[fwd.inverse].json()}
	}
	s.mu.Unlock()
	if exists {
		ex.fail(http.StatusConflict, "CONFLICT", fmt.Sprintf(
			"An association definition named %q already exists between %s and %s", in.Name, from.typeID, to.typeID), nil)
		return
	}
	ex.json(http.StatusOK, map[string]any{"results": created})
}

func checkLabelCreate(in labelCreate) *failure {
	var missing []string
	if strings.TrimSpace(in.Label) == "" {
		missing = append(missing, "label")
	}
	if in.Name == "" {
		missing = append(missing, "name")
	}
	switch {
	case len(missing) > 0:
		return badRequest("Some required fields were not set: [%s]", strings.Join(missing, ", "))
	case !namePattern.MatchString(in.Name):
		return badRequest("Association definition name %q is invalid: it must start with a lowercase letter and contain only lowercase letters, digits and underscores", in.Name)
	}
	return nil
}
