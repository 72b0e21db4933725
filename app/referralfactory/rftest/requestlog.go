package rftest

import "time"

// Request is one entry of the simulator's request log. It never holds a
// token: inbound webhook paths are logged as /webhook/{token}/qualify.
type Request struct {
	// Time is when the request arrived, by Options.Clock.
	Time time.Time
	// Method and Path are the HTTP method and URL path.
	Method, Path string
	// Endpoint is "users.list", "users.get", "webhook.qualify" or "unknown".
	Endpoint string
	// AccountID is the account the token (API or inbound) belongs to, 0
	// when the request was refused before that was known.
	AccountID int64
	// IP is the caller's address, the key of the abuse block.
	IP string
	// Status is the HTTP status answered.
	Status int
	// Page and PerPage are what a users.list call was served.
	Page, PerPage int
	// CampaignID is the campaign_id query parameter as sent; GET /users
	// ignores it, like Referral Factory does.
	CampaignID string
	// RateLimited and Blocked say the call was refused by the burst limit
	// (429) or the IP block (403); Injected that the answer was a Fault.
	RateLimited, Blocked, Injected bool
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, r)
}

// Requests returns a copy of the request log.
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

// ResetLog empties the request log (rate windows and blocks stay).
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}
