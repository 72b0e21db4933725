package hubspottest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Association batch limits: HubSpot caps batch read at 1,000 ids; writes
// are held to the 100 inputs of every other batch endpoint. A read answers
// at most assocPageSize associated records per input, with paging.
const (
	maxAssocReadInputs = 1000
	assocPageSize      = 500
)

// objectIDJSON is PublicObjectId.
type objectIDJSON struct {
	ID string `json:"id"`
}

// assocSpecJSON is AssociationSpec.
type assocSpecJSON struct {
	AssociationCategory string `json:"associationCategory"`
	AssociationTypeID   *int   `json:"associationTypeId"`
}

// assocPost is PublicAssociationMultiPost.
type assocPost struct {
	From  *objectIDJSON   `json:"from"`
	To    *objectIDJSON   `json:"to"`
	Types []assocSpecJSON `json:"types"`
}

// pairJSON is LabelsBetweenObjectPair.
type pairJSON struct {
	FromObjectTypeID string   `json:"fromObjectTypeId"`
	FromObjectID     string   `json:"fromObjectId"`
	ToObjectTypeID   string   `json:"toObjectTypeId"`
	ToObjectID       string   `json:"toObjectId"`
	Labels           []string `json:"labels"`
}

// handleAssocCreate serves POST /crm/associations/{v}/{from}/{to}/batch/create:
// labelled (or unlabeled) associations between existing records. A
// malformed input or an association type not defined between the two
// object types fails the whole batch; a record that does not exist fails
// only its input (207).
func (s *Server) handleAssocCreate(ex *exchange) {
	from, to, ok := pathKinds(ex)
	if !ok {
		return
	}
	var body struct {
		Inputs []assocPost `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	keys, f := checkAssocInputs(&pt.assoc, from, to, body.Inputs)
	var results []pairJSON
	var errs []batchError
	if f == nil {
		for i, in := range body.Inputs {
			a, b, bad := pt.resolvePair(from, to, in.From.ID, in.To.ID)
			if bad != nil {
				errs = append(errs, *bad)
				continue
			}
			for _, k := range keys[i] {
				pt.assoc.link(a, b, k)
			}
			results = append(results, pt.pairLabels(a, b, to))
		}
	}
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	if results == nil {
		results = []pairJSON{}
	}
	ex.respondBatch(http.StatusOK, results, errs)
}

// checkAssocInputs validates the shape of every input and resolves its
// types; callers hold s.mu.
func checkAssocInputs(a *associations, from, to *objectKind, ins []assocPost) ([][]typeKey, *failure) {
	keys := make([][]typeKey, len(ins))
	for i, in := range ins {
		if f := requireObjectIDs(in.From, in.To); f != nil {
			return nil, f
		}
		if len(in.Types) == 0 {
			return nil, badRequest("Some required fields were not set: [types]")
		}
		for _, t := range in.Types {
			if t.AssociationTypeID == nil || t.AssociationCategory == "" {
				return nil, badRequest("Some required fields were not set: [associationCategory, associationTypeId]")
			}
			if !slices.Contains([]string{categoryHubSpot, categoryUser, categoryIntegrator, categoryWork}, t.AssociationCategory) {
				return nil, badRequest("associationCategory %q is not one of [HUBSPOT_DEFINED, INTEGRATOR_DEFINED, USER_DEFINED, WORK]", t.AssociationCategory)
			}
			k := typeKey{from.typeID, to.typeID, t.AssociationCategory, *t.AssociationTypeID}
			if _, ok := a.types[k]; !ok {
				return nil, badRequest("Association type %d (%s) is not defined from %s to %s",
					k.typeID, k.category, from.plural, to.plural)
			}
			keys[i] = append(keys[i], k)
		}
	}
	return keys, nil
}

func requireObjectIDs(from, to *objectIDJSON) *failure {
	switch {
	case from == nil || from.ID == "":
		return badRequest("Some required fields were not set: [from]")
	case to == nil || to.ID == "":
		return badRequest("Some required fields were not set: [to]")
	}
	return nil
}

// resolvePair finds both records of an input, or the per-input error
// HubSpot reports; callers hold s.mu.
func (pt *portal) resolvePair(from, to *objectKind, fromID, toID string) (objRef, objRef, *batchError) {
	ctx := map[string][]string{"fromObjectId": {fromID}, "toObjectId": {toID}}
	for _, side := range []struct {
		k  *objectKind
		id string
	}{{from, fromID}, {to, toID}} {
		if _, ok := pt.recordOf(side.k, side.id); !ok {
			return objRef{}, objRef{}, &batchError{Status: "error", Category: "VALIDATION_ERROR",
				SubCategory: "crm.associations.INVALID_OBJECT_IDS",
				Message:     fmt.Sprintf("No %s with id %s exists", side.k.singular, side.id), Context: ctx}
		}
	}
	a, _ := pt.recordOf(from, fromID)
	b, _ := pt.recordOf(to, toID)
	if a == b {
		return a, b, &batchError{Status: "error", Category: "VALIDATION_ERROR",
			Message: fmt.Sprintf("A %s cannot be associated with itself", from.singular), Context: ctx}
	}
	return a, b, nil
}

// recordOf finds a record of kind k by id.
func (pt *portal) recordOf(k *objectKind, id string) (objRef, bool) {
	var r *record
	var ok bool
	if k == dealsKind {
		r, ok = pt.findDeal(id)
	} else {
		r, ok = pt.findByID(id)
	}
	if !ok {
		return objRef{}, false
	}
	return objRef{kind: k.typeID, id: r.id}, true
}

// pairLabels renders the labels now linking a to b.
func (pt *portal) pairLabels(a, b objRef, to *objectKind) pairJSON {
	_, types := pt.assoc.linked(a, to)
	return pairJSON{FromObjectTypeID: a.kind, FromObjectID: a.idString(),
		ToObjectTypeID: b.kind, ToObjectID: b.idString(), Labels: labelsOf(types[b])}
}

// defaultJSON is PublicDefaultAssociation.
type defaultJSON struct {
	From            objectIDJSON  `json:"from"`
	To              objectIDJSON  `json:"to"`
	AssociationSpec assocSpecJSON `json:"associationSpec"`
}

// handleAssocDefault serves
// POST /crm/associations/{v}/{from}/{to}/batch/associate/default: the
// default (unlabeled) association, answered for both directions.
func (s *Server) handleAssocDefault(ex *exchange) {
	from, to, ok := pathKinds(ex)
	if !ok {
		return
	}
	var body struct {
		Inputs []struct {
			From *objectIDJSON `json:"from"`
			To   *objectIDJSON `json:"to"`
		} `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	for _, in := range body.Inputs {
		if f := requireObjectIDs(in.From, in.To); f != nil {
			ex.failure(f)
			return
		}
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	key, hasDefault := pt.assoc.defaults[[2]string{from.typeID, to.typeID}]
	results := []defaultJSON{}
	var errs []batchError
	for _, in := range body.Inputs {
		if !hasDefault {
			break
		}
		a, b, bad := pt.resolvePair(from, to, in.From.ID, in.To.ID)
		if bad != nil {
			errs = append(errs, *bad)
			continue
		}
		pt.assoc.link(a, b, key)
		back := pt.assoc.types[key].inverse
		results = append(results, defaultResult(a, b, key), defaultResult(b, a, back))
	}
	s.mu.Unlock()
	if !hasDefault {
		ex.failure(badRequest("There is no default association type from %s to %s", from.plural, to.plural))
		return
	}
	ex.respondBatch(http.StatusOK, results, errs)
}

func defaultResult(a, b objRef, k typeKey) defaultJSON {
	id := k.typeID
	return defaultJSON{From: objectIDJSON{a.idString()}, To: objectIDJSON{b.idString()},
		AssociationSpec: assocSpecJSON{AssociationCategory: k.category, AssociationTypeID: &id}}
}

// assocReadJSON is PublicAssociationMultiWithLabel.
type assocReadJSON struct {
	From   objectIDJSON     `json:"from"`
	To     []assocToJSON    `json:"to"`
	Paging *assocPagingJSON `json:"paging,omitempty"`
}

type assocToJSON struct {
	ToObjectID       string      `json:"toObjectId"`
	AssociationTypes []labelJSON `json:"associationTypes"`
}

type assocPagingJSON struct {
	Next struct {
		After string `json:"after"`
	} `json:"next"`
}

// handleAssocRead serves POST /crm/associations/{v}/{from}/{to}/batch/read:
// for each id, the records of {to} it is associated with and the types of
// each association. Ids with no association (or no record) come back as
// errors in a 207, as HubSpot reports them.
func (s *Server) handleAssocRead(ex *exchange) {
	from, to, ok := pathKinds(ex)
	if !ok {
		return
	}
	var body struct {
		Inputs []struct {
			ID    string `json:"id"`
			After string `json:"after"`
		} `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkAssocReadSize(ex, len(body.Inputs)) {
		return
	}
	offsets := make([]int, len(body.Inputs))
	for i, in := range body.Inputs {
		if in.ID == "" {
			ex.failure(badRequest("Some required fields were not set: [id]"))
			return
		}
		if in.After != "" {
			n, err := strconv.Atoi(in.After)
			if err != nil || n < 0 {
				ex.failure(badRequest("Invalid paging cursor %q", in.After))
				return
			}
			offsets[i] = n
		}
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	results := []assocReadJSON{}
	var errs []batchError
	for i, in := range body.Inputs {
		r, found := pt.readAssociations(from, to, in.ID, offsets[i])
		if !found {
			errs = append(errs, batchError{Status: "error", Category: "OBJECT_NOT_FOUND",
				SubCategory: "crm.associations.NO_ASSOCIATIONS_FOUND",
				Message:     fmt.Sprintf("No %s is associated with %s %s.", to.singular, from.singular, in.ID),
				Context:     map[string][]string{"fromObjectId": {in.ID}, "toObjectType": {to.singular}}})
			continue
		}
		results = append(results, r)
	}
	s.mu.Unlock()
	ex.respondBatch(http.StatusOK, results, errs)
}

func checkAssocReadSize(ex *exchange, n int) bool {
	if n > maxAssocReadInputs {
		ex.inputs = n
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("Batch input size %d exceeds the maximum of %d", n, maxAssocReadInputs), nil)
		return false
	}
	if n == 0 {
		return checkBatchSize(ex, n)
	}
	ex.inputs = n
	return true
}

// readAssociations renders one page of a record's associations; callers
// hold s.mu.
func (pt *portal) readAssociations(from, to *objectKind, id string, offset int) (assocReadJSON, bool) {
	ref, ok := pt.recordOf(from, id)
	if !ok {
		return assocReadJSON{}, false
	}
	refs, types := pt.assoc.linked(ref, to)
	if len(refs) == 0 || offset >= len(refs) {
		return assocReadJSON{}, false
	}
	out := assocReadJSON{From: objectIDJSON{id}, To: []assocToJSON{}}
	end := min(offset+assocPageSize, len(refs))
	for _, other := range refs[offset:end] {
		to := assocToJSON{ToObjectID: other.idString(), AssociationTypes: []labelJSON{}}
		for _, t := range types[other] {
			to.AssociationTypes = append(to.AssociationTypes, t.json())
		}
		out.To = append(out.To, to)
	}
	if end < len(refs) {
		out.Paging = &assocPagingJSON{}
		out.Paging.Next.After = strconv.Itoa(end)
	}
	return out, true
}
