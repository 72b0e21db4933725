package hubspottest

import (
	"fmt"
	"maps"
	"net/http"
	"time"
)

// dealUpsertInput is one input of deals batch/upsert.
type dealUpsertInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// handleDealUpsert serves POST /crm/objects/{v}/deals/batch/upsert. The
// idProperty must be a unique-value property (or hs_object_id, which only
// updates); anything else fails the whole batch. As with batch create,
// per-input results are opt-in: when every input carries an
// objectWriteTraceId, each succeeds or fails on its own and failures come
// back in a 207 (an upsert by a custom unique property can be partial,
// unlike one by email); otherwise the first invalid input fails the batch
// with 400 (or 409) and nothing is written.
func (s *Server) handleDealUpsert(ex *exchange) {
	var body struct {
		Inputs []dealUpsertInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) || !s.checkDealInputs(ex, body.Inputs) {
		return
	}
	traced := true
	for _, in := range body.Inputs {
		traced = traced && in.ObjectWriteTraceID != ""
	}
	s.mu.Lock()
	results, errs, f := s.portals[ex.hubID].upsertDeals(body.Inputs, traced, s.now())
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	ex.respondBatch(http.StatusOK, results, errs)
}

// checkDealInputs refuses the batch for a missing or non-unique
// idProperty, missing properties or repeated ids.
func (s *Server) checkDealInputs(ex *exchange, ins []dealUpsertInput) bool {
	keys := make([]string, len(ins))
	shown := make([]string, len(ins))
	for i, in := range ins {
		switch {
		case in.IDProperty == "":
			ex.failure(badRequest("idProperty is required for batch upsert; use a unique-value property or hs_object_id"))
			return false
		case in.IDProperty == "hs_object_id" && !digitsPattern.MatchString(in.ID):
			ex.failure(badRequest("%q is not a valid hs_object_id", in.ID))
			return false
		case in.Properties == nil:
			ex.failure(badRequest("Some required fields were not set: [properties]"))
			return false
		case !s.checkUniqueIDProperty(ex, dealsKind, in.IDProperty):
			return false
		}
		keys[i], shown[i] = in.IDProperty+":"+in.ID, in.ID
	}
	return checkDuplicates(ex, keys, shown)
}

// upsertDeals writes the inputs: traced, one by one with failures per
// input; untraced, all or nothing. Callers hold s.mu.
func (pt *portal) upsertDeals(ins []dealUpsertInput, traced bool, now time.Time) ([]objectResult, []batchError, *failure) {
	results := []objectResult{}
	if traced {
		var errs []batchError
		for _, in := range ins {
			plan, f := pt.planDeal(in, nil)
			if f != nil {
				errs = append(errs, inputError(f, in.ID, in.ObjectWriteTraceID))
				continue
			}
			results = append(results, pt.writeDeal(plan, now))
		}
		return results, errs, nil
	}
	claims := map[string]int{}
	plans := make([]dealPlan, len(ins))
	for i, in := range ins {
		plan, f := pt.planDeal(in, claims)
		if f != nil {
			return nil, nil, f
		}
		plans[i] = plan
	}
	for _, plan := range plans {
		results = append(results, pt.writeDeal(plan, now))
	}
	return results, nil, nil
}

// dealPlan is a validated upsert input ready to be written.
type dealPlan struct {
	existing *record
	values   map[string]string
	trace    string
}

// planDeal validates one input. claims, when set, holds the unique values
// earlier inputs of an all-or-nothing batch will write, so that two of them
// cannot take one value; callers hold s.mu.
func (pt *portal) planDeal(in dealUpsertInput, claims map[string]int) (dealPlan, *failure) {
	props := maps.Clone(in.Properties)
	plan := dealPlan{trace: in.ObjectWriteTraceID}
	if in.IDProperty == "hs_object_id" {
		d, ok := pt.findDeal(in.ID)
		if !ok {
			return plan, badRequest("Could not find DEAL %s; an upsert by hs_object_id cannot create records", in.ID)
		}
		plan.existing = d
	} else {
		if v, ok := props[in.IDProperty]; ok && v != in.ID {
			return plan, badRequest("The %s property %q does not match the id %q of the upsert", in.IDProperty, v, in.ID)
		}
		plan.existing, _ = pt.dealByUnique(in.IDProperty, in.ID)
		if plan.existing == nil {
			props[in.IDProperty] = in.ID
		}
	}
	values, f := pt.checkDealWrite(plan.existing, props)
	if f != nil {
		return plan, f
	}
	plan.values = values
	if claims != nil {
		for name, v := range values {
			if def := pt.dealSchema.props[name]; !def.HasUniqueValue || v == "" {
				continue
			}
			if _, taken := claims[name+"\x00"+v]; taken {
				return plan, &failure{http.StatusConflict, "CONFLICT",
					fmt.Sprintf("A deal with %s %q already exists. Duplicate value in batch input", name, v)}
			}
			claims[name+"\x00"+v] = len(claims)
		}
	}
	return plan, nil
}

// writeDeal writes a plan; callers hold s.mu.
func (pt *portal) writeDeal(p dealPlan, now time.Time) objectResult {
	isNew := p.existing == nil
	d := p.existing
	if isNew {
		d = pt.createDeal(p.values, now)
	} else {
		pt.applyDealProps(d, p.values, now)
	}
	r := fullResult(d)
	r.New = &isNew
	r.ObjectWriteTraceID = p.trace
	return r
}

// inputError reports one failed input of a partial batch, naming it by id
// and by its objectWriteTraceId when it has one.
func inputError(f *failure, id, trace string) batchError {
	ctx := map[string][]string{"ids": {id}}
	if trace != "" {
		ctx["objectWriteTraceId"] = []string{trace}
	}
	return batchError{Status: "error", Category: f.category, Message: f.message, Context: ctx}
}

// checkUniqueIDProperty validates the idProperty of a read or upsert:
// record ids are always fine, otherwise the property must exist and have
// unique values. It answers 400 itself.
func (s *Server) checkUniqueIDProperty(ex *exchange, k *objectKind, idProp string) bool {
	if idProp == "" || idProp == "hs_object_id" {
		return true
	}
	s.mu.Lock()
	def, exists := s.portals[ex.hubID].schemaOf(k).props[idProp]
	unique := exists && def.HasUniqueValue
	s.mu.Unlock()
	switch {
	case !exists:
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Property %q does not exist", idProp), nil)
	case !unique:
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("Unable to perform update/upsert by non-unique %s property", k.typeID), nil)
	}
	return unique
}

// handleDealRead serves POST /crm/objects/{v}/deals/batch/read, by record
// id or by a unique-value property: 200 when every id is found, otherwise
// 207 with OBJECT_NOT_FOUND listing the missing ids.
func (s *Server) handleDealRead(ex *exchange) {
	var body readBody
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) ||
		!s.checkUniqueIDProperty(ex, dealsKind, body.IDProperty) {
		return
	}
	ids := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		ids[i] = in.ID
	}
	if !checkDuplicates(ex, ids, ids) {
		return
	}
	byID := body.IDProperty == "" || body.IDProperty == "hs_object_id"
	archived := ex.r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	results := []readResult{}
	var missing []string
	for _, id := range ids {
		d, ok := pt.findDeal(id)
		if !byID {
			d, ok = pt.dealByUnique(body.IDProperty, id)
		}
		if !ok || archived {
			missing = append(missing, id)
			continue
		}
		results = append(results, renderRead(&pt.dealSchema, d, body.Properties, body.PropertiesWithHistory,
			defaultDealReadProperties, s.opts.AppID))
	}
	s.mu.Unlock()
	sortResults(results, func(r readResult) string { return r.ID })
	var errs []batchError
	if len(missing) > 0 {
		errs = append(errs, notFoundErrorOf(dealsKind, missing))
	}
	ex.respondBatch(http.StatusOK, results, errs)
}
