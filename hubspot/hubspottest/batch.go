package hubspottest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBatchInputs is HubSpot's limit for every contacts batch endpoint.
const maxBatchInputs = 100

const nonUniqueMessage = "Unable to perform update/upsert by non-unique 0-1 property"

// objectResult is a SimplePublicObject in a batch response.
type objectResult struct {
	ID                 string            `json:"id"`
	Properties         map[string]string `json:"properties"`
	CreatedAt          string            `json:"createdAt"`
	UpdatedAt          string            `json:"updatedAt"`
	Archived           bool              `json:"archived"`
	New                *bool             `json:"new,omitempty"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
}

// batchError is one StandardError of a 207 response.
type batchError struct {
	Status      string              `json:"status"`
	Category    string              `json:"category"`
	SubCategory string              `json:"subCategory,omitempty"`
	Message     string              `json:"message"`
	Context     map[string][]string `json:"context"`
}

// batchResponse is BatchResponseSimplePublicObject(WithErrors).
type batchResponse struct {
	Status      string       `json:"status"`
	Results     any          `json:"results"`
	NumErrors   int          `json:"numErrors,omitempty"`
	Errors      []batchError `json:"errors,omitempty"`
	StartedAt   string       `json:"startedAt"`
	CompletedAt string       `json:"completedAt"`
}

// respondBatch writes a batch response; any error makes it a 207.
func (ex *exchange) respondBatch(okStatus int, results any, errs []batchError) {
	now := hsTime(ex.s.now())
	status := okStatus
	if len(errs) > 0 {
		status = http.StatusMultiStatus
		ex.category = errs[0].Category
	}
	ex.json(status, batchResponse{
		Status: "COMPLETE", Results: results, NumErrors: len(errs), Errors: errs,
		StartedAt: hsTime(ex.started), CompletedAt: now,
	})
}

func notFoundError(ids []string) batchError { return notFoundErrorOf(contactsKind, ids) }

func notFoundErrorOf(k *objectKind, ids []string) batchError {
	return batchError{Status: "error", Category: "OBJECT_NOT_FOUND",
		Message: fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", k.upper),
		Context: map[string][]string{"ids": ids}}
}

// fullResult renders a contact with all its stored properties.
func fullResult(c *contact) objectResult {
	props := make(map[string]string, len(c.props))
	for k, v := range c.props {
		props[k] = v
	}
	return objectResult{
		ID: c.idString(), Properties: props,
		CreatedAt: hsTime(c.created), UpdatedAt: hsTime(c.updated),
	}
}

// sortResults orders results by id descending: HubSpot does not promise
// input order, so callers must match results by id or email.
func sortResults[T any](rs []T, id func(T) string) {
	slices.SortStableFunc(rs, func(a, b T) int {
		x, _ := strconv.ParseInt(id(a), 10, 64)
		y, _ := strconv.ParseInt(id(b), 10, 64)
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
}

// checkBatchSize answers 400 unless 1 <= n <= 100.
func checkBatchSize(ex *exchange, n int) bool {
	ex.inputs = n
	switch {
	case n == 0:
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", "Batch input must contain at least 1 input", nil)
		return false
	case n > maxBatchInputs:
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR",
			fmt.Sprintf("Batch input size %d exceeds the maximum of %d", n, maxBatchInputs), nil)
		return false
	}
	return true
}

// checkDuplicates answers 400 if keys repeat; keys are already normalized
// (emails lowercased), shown are the ids as sent.
func checkDuplicates(ex *exchange, keys, shown []string) bool {
	seen := make(map[string]bool, len(keys))
	var dups []string
	for i, k := range keys {
		if seen[k] && !slices.Contains(dups, shown[i]) {
			dups = append(dups, shown[i])
		}
		seen[k] = true
	}
	if len(dups) == 0 {
		return true
	}
	ex.fail(http.StatusBadRequest, "VALIDATION_ERROR",
		"Duplicate IDs found in batch input: ["+strings.Join(dups, ", ")+"]", nil)
	return false
}

// checkIDProperty validates idProperty for update/upsert/read. Record ids
// ("" or hs_object_id) are always fine; email only where allowEmail.
func (s *Server) checkIDProperty(ex *exchange, idProp string, allowEmail bool) bool {
	switch {
	case idProp == "" || idProp == "hs_object_id":
		return true
	case idProp == "email" && allowEmail:
		return true
	}
	s.mu.Lock()
	_, exists := s.portals[ex.hubID].props[idProp]
	s.mu.Unlock()
	if !exists {
		ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Property %q does not exist", idProp), nil)
		return false
	}
	ex.fail(http.StatusBadRequest, "VALIDATION_ERROR", nonUniqueMessage, nil)
	return false
}

// hasIdentity reports whether a new contact has email, firstname or lastname.
func hasIdentity(props map[string]string) bool {
	return props["email"] != "" || props["firstname"] != "" || props["lastname"] != ""
}

const missingIdentityMessage = "A contact must have at least one of these properties set: email, firstname, lastname"
