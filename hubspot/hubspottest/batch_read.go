package hubspottest

import (
	"net/http"
	"strconv"
	"strings"
)

// readBody is the batch/read request.
type readBody struct {
	IDProperty            string   `json:"idProperty"`
	Inputs                []idRef  `json:"inputs"`
	Properties            []string `json:"properties"`
	PropertiesWithHistory []string `json:"propertiesWithHistory"`
}

// idRef is a batch input naming one record.
type idRef struct {
	ID string `json:"id"`
}

// readResult is a SimplePublicObject with requested properties, null when
// the contact has no value.
type readResult struct {
	ID                    string                    `json:"id"`
	Properties            map[string]*string        `json:"properties"`
	PropertiesWithHistory map[string][]historyEntry `json:"propertiesWithHistory,omitempty"`
	CreatedAt             string                    `json:"createdAt"`
	UpdatedAt             string                    `json:"updatedAt"`
	Archived              bool                      `json:"archived"`
}

// historyEntry is one value of a property's history; the simulator keeps
// only the current value.
type historyEntry struct {
	Value      string `json:"value"`
	Timestamp  string `json:"timestamp"`
	SourceType string `json:"sourceType"`
	SourceID   string `json:"sourceId,omitempty"`
}

// defaultReadProperties are what HubSpot returns when none are requested.
var defaultReadProperties = []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}

// handleRead serves batch/read: 200 when every id is found, otherwise 207
// with OBJECT_NOT_FOUND listing the missing ids (even when none is found).
func (s *Server) handleRead(ex *exchange) {
	var body readBody
	if !decodeJSON(ex, &body) || !checkBatchSize(ex, len(body.Inputs)) {
		return
	}
	byEmail := body.IDProperty == "email"
	if !byEmail && !s.checkIDProperty(ex, body.IDProperty, false) {
		return
	}
	keys := make([]string, len(body.Inputs))
	shown := make([]string, len(body.Inputs))
	for i, in := range body.Inputs {
		keys[i], shown[i] = in.ID, in.ID
		if byEmail {
			keys[i] = strings.ToLower(in.ID)
		}
	}
	if !checkDuplicates(ex, keys, shown) {
		return
	}
	archived := ex.r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	pt := s.portals[ex.hubID]
	var results []readResult
	var missing []string
	for _, in := range body.Inputs {
		c, ok := lookupForRead(pt, in.ID, byEmail)
		if !ok || archived {
			missing = append(missing, in.ID)
			continue
		}
		results = append(results, renderRead(&pt.schema, c, body.Properties, body.PropertiesWithHistory,
			defaultReadProperties, s.opts.AppID))
	}
	s.mu.Unlock()
	if results == nil {
		results = []readResult{}
	}
	sortResults(results, func(r readResult) string { return r.ID })
	var errs []batchError
	if len(missing) > 0 {
		errs = append(errs, notFoundError(missing))
	}
	ex.respondBatch(http.StatusOK, results, errs)
}

// lookupForRead finds a contact by email (an invalid email is simply not
// found) or by record id.
func lookupForRead(pt *portal, id string, byEmail bool) (*contact, bool) {
	if byEmail {
		if !validEmail(id) {
			return nil, false
		}
		return pt.findByEmail(id)
	}
	return pt.findByID(id)
}

// renderRead renders the requested properties of c plus the system ones
// (defaults when none are requested). Names that are not defined
// properties are ignored, as HubSpot does.
func renderRead(sc *schema, c *record, props, withHistory, defaults []string, appID int64) readResult {
	if len(props) == 0 && len(withHistory) == 0 {
		props = defaults
	}
	out := readResult{
		ID: c.idString(), Properties: make(map[string]*string),
		CreatedAt: hsTime(c.created), UpdatedAt: hsTime(c.updated),
	}
	for _, n := range append([]string{"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate"}, props...) {
		if _, defined := sc.props[n]; !defined {
			continue
		}
		if v, ok := c.props[n]; ok {
			out.Properties[n] = &v
		} else {
			out.Properties[n] = nil
		}
	}
	for _, n := range withHistory {
		if _, defined := sc.props[n]; !defined {
			continue
		}
		if out.PropertiesWithHistory == nil {
			out.PropertiesWithHistory = make(map[string][]historyEntry)
		}
		entries := []historyEntry{}
		if v, ok := c.props[n]; ok {
			entries = append(entries, historyEntry{Value: v, Timestamp: hsTime(c.updated), SourceType: "INTEGRATION", SourceID: strconv.FormatInt(appID, 10)})
		}
		out.PropertiesWithHistory[n] = entries
	}
	return out
}
