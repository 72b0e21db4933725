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
// updates); anything else fails the whole batch. Unlike an upsert of
// contacts by email, an upsert by a custom unique property is partial: each
// input succeeds or fails on its own and failures come back in a 207.
func (s *Server) handleDealUpsert(ex *exchange) {
	var body struct {
		Inputs []dealUpsertInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	keys := make([]string, len(body.Inputs))
	shown := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		switch {
		case in.IDProperty == "":
			ex.failure(badRequest("idProperty is required for batch upsert; use a unique-value property or hs_object_id"))
			return
		case in.IDProperty == "hs_object_id" && !digitsPattern.MatchString(in.ID):
			ex.failure(badRequest("%q is not a valid hs_object_id", in.ID))
			return
		case in.Properties == nil:
			ex.failure(badRequest("Some required fields were not set: [properties]"))
			return
		case !s.checkUniqueIDProperty(ex, dealsKind, in.IDProperty):
			return
		}
		keys[i], shown[i] = in.IDProperty+":"+in.ID, in.ID
	}
	if !checkDuplicates(ex, keys, shown) {
		return
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	now := s.now()
	var results []objectResult
	var errs []batchError
	for _, in := range body.Inputs {
		r, f := pt.upsertDeal(in, now)
		if f != nil {
			errs = append(errs, inputError(f, in.ID, in.ObjectWriteTraceID))
			continue
		}
		results = append(results, r)
	}
	s.mu.Unlock()
	if results == nil {
		results = []objectResult{}
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	ex.respondBatch(http.StatusOK, results, errs)
}

// upsertDeal validates and writes one input; callers hold s.mu.
func (pt *portal) upsertDeal(in dealUpsertInput, now time.Time) (objectResult, *failure) {
	props := maps.Clone(in.Properties)
	var existing *record
	if in.IDProperty == "hs_object_id" {
		d, ok := pt.findDeal(in.ID)
		if !ok {
			return objectResult{}, badRequest("Could not find DEAL %s; an upsert by hs_object_id cannot create records", in.ID)
		}
		existing = d
	} else {
		if v, ok := props[in.IDProperty]; ok && v != in.ID {
			return objectResult{}, badRequest("The %s property %q does not match the id %q of the upsert", in.IDProperty, v, in.ID)
		}
		existing, _ = pt.dealByUnique(in.IDProperty, in.ID)
		if existing == nil {
			props[in.IDProperty] = in.ID
		}
	}
	values, f := pt.checkDealWrite(existing, props)
	if f != nil {
		return objectResult{}, f
	}
	isNew := existing == nil
	d := existing
	if isNew {
		d = pt.createDeal(values, now)
	} else {
		pt.applyDealProps(d, values, now)
	}
	r := fullResult(d)
	r.New = &isNew
	r.ObjectWriteTraceID = in.ObjectWriteTraceID
	return r, nil
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
