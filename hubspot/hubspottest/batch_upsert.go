package hubspottest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// upsertInput is one input of batch/upsert.
type upsertInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// failure is an error decided under the lock and written after it.
type failure struct {
	status   int
	category string
	message  string
}

func (ex *exchange) failure(f *failure) { ex.fail(f.status, f.category, f.message, nil) }

func badRequest(format string, args ...any) *failure {
	return &failure{http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf(format, args...)}
}

func conflictWith(c *contact) *failure {
	return &failure{http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: " + c.idString()}
}

// handleUpsert serves batch/upsert. With email as idProperty HubSpot does
// not do partial upserts, so any invalid input fails the whole batch and
// nothing is written.
func (s *Server) handleUpsert(ex *exchange) {
	var body struct {
		Inputs []upsertInput `json:"inputs"`
	}
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	keys := make([]string, len(body.Inputs))
	shown := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		switch in.IDProperty {
		case "email":
			keys[i] = "email:" + strings.ToLower(in.ID)
		case "hs_object_id":
			if !digitsPattern.MatchString(in.ID) {
				ex.failure(badRequest("%q is not a valid hs_object_id", in.ID))
				return
			}
			keys[i] = "id:" + in.ID
		case "":
			ex.failure(badRequest("idProperty is required for batch upsert; use email or hs_object_id"))
			return
		default:
			s.checkIDProperty(ex, in.IDProperty, false)
			return
		}
		if in.Properties == nil {
			ex.failure(badRequest("Some required fields were not set: [properties]"))
			return
		}
		shown[i] = in.ID
	}
	if !checkDuplicates(ex, keys, shown) {
		return
	}
	s.mu.Lock()
	results, f := s.upsertLocked(s.portals[ex.hubID], body.Inputs)
	s.mu.Unlock()
	if f != nil {
		ex.failure(f)
		return
	}
	sortResults(results, func(r objectResult) string { return r.ID })
	ex.respondBatch(http.StatusOK, results, nil)
}

// upsertPlan is a validated input ready to be written.
type upsertPlan struct {
	existing *contact
	values   map[string]string
	traceID  string
}

// upsertLocked validates every input, then writes them all; callers hold s.mu.
func (s *Server) upsertLocked(pt *portal, ins []upsertInput) ([]objectResult, *failure) {
	plans := make([]upsertPlan, len(ins))
	claimed := make(map[string]bool)
	for _, in := range ins {
		if in.IDProperty == "email" {
			claimed[strings.ToLower(in.ID)] = true
		}
	}
	for i, in := range ins {
		plan, f := planUpsert(pt, in, claimed)
		if f != nil {
			return nil, f
		}
		plans[i] = plan
	}
	now := s.now()
	results := make([]objectResult, 0, len(plans))
	for _, p := range plans {
		isNew := p.existing == nil
		c := p.existing
		if isNew {
			c = s.createContact(pt, p.values, now)
		} else {
			pt.applyProps(c, p.values, now)
		}
		r := fullResult(c)
		r.New = &isNew
		r.ObjectWriteTraceID = p.traceID
		results = append(results, r)
	}
	return results, nil
}

// planUpsert validates one input. claimed holds the emails that inputs of
// this batch upsert by, so an hs_object_id input cannot take one of them.
func planUpsert(pt *portal, in upsertInput, claimed map[string]bool) (upsertPlan, *failure) {
	issues, values := pt.validateProps(in.Properties)
	byEmail := in.IDProperty == "email"
	if byEmail && !validEmail(in.ID) && !hasIssue(issues, "email") {
		issues = append(issues, issue("email", "INVALID_EMAIL", fmt.Sprintf("Email address %s is invalid", in.ID)))
		sort.SliceStable(issues, func(a, b int) bool { return issues[a].Name < issues[b].Name })
	}
	if len(issues) > 0 {
		return upsertPlan{}, &failure{http.StatusBadRequest, "VALIDATION_ERROR", issuesMessage(issues)}
	}
	plan := upsertPlan{values: values, traceID: in.ObjectWriteTraceID}
	if byEmail {
		id := strings.ToLower(in.ID)
		if e, ok := in.Properties["email"]; ok && !strings.EqualFold(e, in.ID) {
			return plan, badRequest("The email property %q does not match the id %q of an upsert by email", e, in.ID)
		}
		values["email"] = id
		plan.existing, _ = pt.findByEmail(id)
		return plan, nil
	}
	c, ok := pt.findByID(in.ID)
	if !ok {
		return plan, badRequest("Could not find CONTACT %s; an upsert by hs_object_id cannot create records", in.ID)
	}
	if e := values["email"]; e != "" && e != c.props["email"] {
		if other, taken := pt.findByEmail(e); taken {
			return plan, conflictWith(other)
		}
		if claimed[e] {
			return plan, &failure{http.StatusConflict, "CONFLICT", "Contact already exists. Duplicate email in batch input: " + e}
		}
	}
	plan.existing = c
	return plan, nil
}

func hasIssue(issues []propIssue, name string) bool {
	for _, is := range issues {
		if is.Name == name {
			return true
		}
	}
	return false
}
