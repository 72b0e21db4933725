package hubspottest

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// inlineAssoc is PublicAssociationsForObject: an association a created
// record gets in the same call.
type inlineAssoc struct {
	To    *objectIDJSON   `json:"to"`
	Types []assocSpecJSON `json:"types"`
}

// dealCreateInput is SimplePublicObjectBatchInputForCreate for deals.
type dealCreateInput struct {
	Properties         map[string]string `json:"properties"`
	Associations       []inlineAssoc     `json:"associations"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// dealCreatePlan is a validated input ready to be written.
type dealCreatePlan struct {
	values map[string]string
	links  []inlineLink
	trace  string
}

// inlineLink is one association of a new deal, resolved.
type inlineLink struct {
	to  objRef
	key typeKey
}

// handleDealCreate serves POST /crm/objects/{v}/deals/batch/create:
// deals with their associations (to an existing record, by an association
// type defined from deals, e.g. HubSpot's default deal→contact type 3).
// A malformed input or an undefined association type fails the whole
// batch. As with contacts, per-input results are opt-in: when every input
// carries a distinct objectWriteTraceId, each succeeds or fails on its own
// (a unique value another deal holds: 409 CONFLICT naming it; an invalid
// value: 400; an associated record that does not exist: 400) and failures
// come back in a 207; otherwise the first failure fails the batch and
// nothing is written.
func (s *Server) handleDealCreate(ex *exchange) {
	var body struct {
		Inputs []dealCreateInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	traced := true
	traces := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		switch {
		case in.Properties == nil:
			ex.failure(badRequest("Some required fields were not set: [properties]"))
			return
		case in.Associations == nil:
			ex.failure(badRequest("Some required fields were not set: [associations]"))
			return
		}
		traced = traced && in.ObjectWriteTraceID != ""
		traces[i] = in.ObjectWriteTraceID
	}
	if traced && !checkDuplicates(ex, traces, traces) {
		return
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	keys, f := pt.inlineTypes(body.Inputs)
	var results []objectResult
	var errs []batchError
	if f == nil {
		results, errs, f = pt.createDeals(body.Inputs, keys, traced, s.now())
	}
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	ex.respondBatch(http.StatusCreated, results, errs)
}

// inlineTypes checks the shape of every input's associations and resolves
// their types, which must be defined from deals; callers hold s.mu.
func (pt *portal) inlineTypes(ins []dealCreateInput) ([][]typeKey, *failure) {
	keys := make([][]typeKey, len(ins))
	for i, in := range ins {
		for _, a := range in.Associations {
			if a.To == nil || a.To.ID == "" {
				return nil, badRequest("Some required fields were not set: [to]")
			}
			if len(a.Types) == 0 {
				return nil, badRequest("Some required fields were not set: [types]")
			}
			for _, t := range a.Types {
				if t.AssociationTypeID == nil || t.AssociationCategory == "" {
					return nil, badRequest("Some required fields were not set: [associationCategory, associationTypeId]")
				}
				k, ok := pt.assoc.typeFrom(dealsKind, t.AssociationCategory, *t.AssociationTypeID)
				if !ok {
					return nil, badRequest("Association type %d (%s) is not defined from deals", *t.AssociationTypeID, t.AssociationCategory)
				}
				keys[i] = append(keys[i], k)
			}
		}
	}
	return keys, nil
}

// typeFrom finds the association type with this category and id whose
// source is kind from.
func (a *associations) typeFrom(from *objectKind, category string, id int) (typeKey, bool) {
	for _, k := range a.order {
		if k.from == from.typeID && k.category == category && k.typeID == id {
			return k, true
		}
	}
	return typeKey{}, false
}

// createDeals validates and writes the inputs: traced, one by one with
// failures per input; untraced, all or nothing. Callers hold s.mu.
func (pt *portal) createDeals(ins []dealCreateInput, keys [][]typeKey, traced bool, now time.Time) ([]objectResult, []batchError, *failure) {
	results := []objectResult{}
	claims := map[string]int{}
	plans := make([]dealCreatePlan, 0, len(ins))
	var errs []batchError
	for i, in := range ins {
		plan, f := pt.planDealCreate(in, keys[i], claims)
		switch {
		case f != nil && traced:
			errs = append(errs, batchError{Status: "error", Category: f.category, Message: f.message,
				Context: map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}}})
		case f != nil:
			return nil, nil, f
		default:
			plans = append(plans, plan)
		}
	}
	for _, p := range plans {
		d := pt.createDeal(p.values, now)
		for _, l := range p.links {
			pt.assoc.link(objRef{kind: dealsKind.typeID, id: d.id}, l.to, l.key)
		}
		r := fullResult(d)
		r.ObjectWriteTraceID = p.trace
		results = append(results, r)
	}
	return results, errs, nil
}

// planDealCreate validates one new deal: its values (a stage of its
// pipeline, valid values, unique values no deal and no earlier input of
// the batch holds) and the records it is associated with. Callers hold
// s.mu.
func (pt *portal) planDealCreate(in dealCreateInput, keys []typeKey, claims map[string]int) (dealCreatePlan, *failure) {
	plan := dealCreatePlan{trace: in.ObjectWriteTraceID}
	values, f := pt.checkDealWrite(nil, in.Properties)
	if f != nil {
		return plan, f
	}
	var mine []string
	for name, v := range values {
		if def := pt.dealSchema.props[name]; !def.HasUniqueValue || v == "" {
			continue
		}
		if _, taken := claims[name+"\x00"+v]; taken {
			return plan, &failure{http.StatusConflict, "CONFLICT",
				fmt.Sprintf("A deal with %s %q already exists. Duplicate value in batch input", name, v)}
		}
		mine = append(mine, name+"\x00"+v)
	}
	n := 0
	for _, a := range in.Associations {
		for range a.Types {
			k := keys[n]
			n++
			to := kindFromPath(k.to)
			ref, ok := pt.recordOf(to, a.To.ID)
			if !ok {
				return plan, badRequest("No %s with id %s exists: the association to it (type %d) cannot be made", to.singular, a.To.ID, k.typeID)
			}
			if !slices.ContainsFunc(plan.links, func(l inlineLink) bool { return l.to == ref && l.key == k }) {
				plan.links = append(plan.links, inlineLink{to: ref, key: k})
			}
		}
	}
	for _, c := range mine {
		claims[c] = len(claims)
	}
	plan.values = values
	return plan, nil
}
