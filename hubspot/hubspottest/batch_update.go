package hubspottest

import (
	"net/http"
)

// updateInput is one input of batch/update.
type updateInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// handleUpdate serves batch/update: record ids only (email is not a unique
// id property for updates), invalid values or email conflicts fail the
// whole batch, unknown ids come back as a 207 while the others are updated.
func (s *Server) handleUpdate(ex *exchange) {
	var body struct {
		Inputs []updateInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	ids := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		if !s.checkIDProperty(ex, in.IDProperty, false) {
			return
		}
		if in.Properties == nil {
			ex.failure(badRequest("Some required fields were not set: [properties]"))
			return
		}
		ids[i] = in.ID
	}
	if !checkDuplicates(ex, ids, ids) {
		return
	}
	s.mu.Lock()
	results, missing, f := s.updateLocked(s.portals[ex.hubID], body.Inputs)
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	var errs []batchError
	if len(missing) > 0 {
		errs = append(errs, notFoundError(missing))
	}
	ex.respondBatch(http.StatusOK, results, errs)
}

// updateLocked validates all inputs, then updates the contacts that exist;
// callers hold s.mu.
func (s *Server) updateLocked(pt *portal, ins []updateInput) ([]objectResult, []string, *failure) {
	type plan struct {
		c      *contact
		values map[string]string
		trace  string
	}
	var plans []plan
	var missing []string
	claimed := make(map[string]*contact)
	for _, in := range ins {
		issues, values := pt.validateProps(in.Properties)
		if len(issues) > 0 {
			return nil, nil, &failure{http.StatusBadRequest, "VALIDATION_ERROR", issuesMessage(issues)}
		}
		c, ok := pt.findByID(in.ID)
		if !ok {
			missing = append(missing, in.ID)
			continue
		}
		if e := values["email"]; e != "" && e != c.props["email"] {
			if other, taken := pt.findByEmail(e); taken {
				return nil, nil, conflictWith(other)
			}
			if first, dup := claimed[e]; dup {
				return nil, nil, conflictWith(first)
			}
			claimed[e] = c
		}
		plans = append(plans, plan{c, values, in.ObjectWriteTraceID})
	}
	now := s.now()
	results := make([]objectResult, 0, len(plans))
	for _, p := range plans {
		pt.applyProps(p.c, p.values, now)
		r := fullResult(p.c)
		r.ObjectWriteTraceID = p.trace
		results = append(results, r)
	}
	return results, missing, nil
}
