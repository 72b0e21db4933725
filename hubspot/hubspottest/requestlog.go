package hubspottest

import "time"

// Request is one entry of the simulator's request log.
type Request struct {
	// Time is when the request arrived, by Options.Clock.
	Time time.Time
	// Method and Path are the HTTP method and URL path.
	Method, Path string
	// Endpoint names the simulated endpoint: "oauth.authorize",
	// "oauth.token", "oauth.introspect", "oauth.revoke",
	// "contacts.batch.upsert", "contacts.batch.read", "contacts.batch.create",
	// "contacts.batch.update", "contacts.gdpr-delete", "properties.list",
	// "properties.create", "groups.list", "groups.create",
	// "deals.batch.upsert", "deals.batch.read", "deals.properties.list",
	// "deals.properties.create", "deals.groups.list", "deals.groups.create",
	// "deals.batch.create", "pipelines.list", "associations.labels.list",
	// "associations.labels.create", "associations.batch.create",
	// "associations.batch.default", "associations.batch.read" or "unknown".
	Endpoint string
	// HubID is the portal the request acted for, 0 when unknown.
	HubID int64
	// Status is the HTTP status answered.
	Status int
	// Inputs is the number of batch inputs in the request body.
	Inputs int
	// Category is the error category of the response ("RATE_LIMIT",
	// "EXPIRED_AUTHENTICATION", "invalid_grant", ...), empty on success.
	Category string
	// Injected is true when the answer was an injected fault (Faults),
	// not the simulator's own verdict (so a 429 refhub provoked can be
	// told from one injected).
	Injected bool
}

// grantKey counts successful token grants per portal and grant type.
type grantKey struct {
	hubID     int64
	grantType string
}

func (s *Server) record(ex *exchange, r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inFlight, ex)
	s.log = append(s.log, r)
}

// arrived notes a routed request as in flight until it is answered.
func (s *Server) arrived(ex *exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight[ex] = Request{Time: ex.started, Method: ex.r.Method, Path: ex.r.URL.Path, Endpoint: ex.endpoint}
}

// InFlight returns the requests received and not answered yet (held by
// Faults.Latency or HangRate, or being processed), in no particular order.
// Only Time, Method, Path and Endpoint are known before the answer.
func (s *Server) InFlight() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, 0, len(s.inFlight))
	for _, r := range s.inFlight {
		out = append(out, r)
	}
	return out
}

// Requests returns a copy of the request log in arrival-completion order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count returns how many logged requests match.
func (s *Server) Count(match func(Request) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if match(r) {
			n++
		}
	}
	return n
}

// ResetLog empties the request log. Token grant counts are kept.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// TokenGrants returns how many successful token grants of grantType
// ("authorization_code" or "refresh_token") the portal received.
func (s *Server) TokenGrants(hubID int64, grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grantKey{hubID, grantType}]
}
