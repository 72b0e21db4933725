package hubspottest

import (
	"encoding/json"
	"net/http"
)

// createInput is one input of batch/create.
type createInput struct {
	Properties         map[string]string `json:"properties"`
	Associations       []json.RawMessage `json:"associations"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// handleCreate serves batch/create. Without an objectWriteTraceId on every
// input the batch is all or nothing (400 for the first invalid input, 409
// for the first conflict); with them, each input succeeds or fails on its
// own and failures come back in a 207.
func (s *Server) handleCreate(ex *exchange) {
	var body struct {
		Inputs []createInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	traced := true
	traceIDs := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		if len(in.Associations) > 0 {
			ex.failure(badRequest("hubspottest does not simulate associations; send an empty associations list"))
			return
		}
		traced = traced && in.ObjectWriteTraceID != ""
		traceIDs[i] = in.ObjectWriteTraceID
	}
	if traced && !checkDuplicates(ex, traceIDs, traceIDs) {
		return
	}
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	var results []objectResult
	var errs []batchError
	var f *failure
	if traced {
		results, errs = s.createTraced(pt, body.Inputs)
	} else {
		results, f = s.createAll(pt, body.Inputs)
	}
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	if results == nil {
		results = []objectResult{}
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	ex.respondBatch(http.StatusCreated, results, errs)
}

// checkCreate validates one input and returns its normalized values.
func checkCreate(pt *portal, in createInput) (map[string]string, *failure) {
	issues, values := pt.validateProps(in.Properties)
	if len(issues) > 0 {
		return nil, &failure{http.StatusBadRequest, "VALIDATION_ERROR", issuesMessage(issues)}
	}
	if !hasIdentity(values) {
		return nil, badRequest(missingIdentityMessage)
	}
	return values, nil
}

// createAll is the all-or-nothing mode; callers hold s.mu.
func (s *Server) createAll(pt *portal, ins []createInput) ([]objectResult, *failure) {
	all := make([]map[string]string, len(ins))
	for i, in := range ins {
		values, f := checkCreate(pt, in)
		if f != nil {
			return nil, f
		}
		all[i] = values
	}
	seen := make(map[string]bool)
	for _, values := range all {
		e := values["email"]
		if e == "" {
			continue
		}
		if c, ok := pt.findByEmail(e); ok {
			return nil, conflictWith(c)
		}
		if seen[e] {
			return nil, &failure{http.StatusConflict, "CONFLICT", "Contact already exists. Duplicate email in batch input: " + e}
		}
		seen[e] = true
	}
	now := s.now()
	results := make([]objectResult, 0, len(all))
	for _, values := range all {
		results = append(results, fullResult(s.createContact(pt, values, now)))
	}
	return results, nil
}

// createTraced creates inputs one by one, reporting failures per trace id;
// callers hold s.mu.
func (s *Server) createTraced(pt *portal, ins []createInput) ([]objectResult, []batchError) {
	var results []objectResult
	var errs []batchError
	now := s.now()
	for _, in := range ins {
		values, f := checkCreate(pt, in)
		if f == nil && values["email"] != "" {
			if c, ok := pt.findByEmail(values["email"]); ok {
				f = conflictWith(c)
			}
		}
		if f != nil {
			errs = append(errs, batchError{
				Status: "error", Category: f.category, Message: f.message,
				Context: map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}},
			})
			continue
		}
		r := fullResult(s.createContact(pt, values, now))
		r.ObjectWriteTraceID = in.ObjectWriteTraceID
		results = append(results, r)
	}
	return results, errs
}
