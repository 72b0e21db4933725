package hubspottest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// rollingWindow holds the admission times of a portal's recent CRM calls.
type rollingWindow struct {
	times []time.Time
}

// prune forgets admissions older than the window: a call admitted at t
// counts while now-t < window.
func (w *rollingWindow) prune(now time.Time, window time.Duration) {
	cut := now.Add(-window)
	i := 0
	for i < len(w.times) && !w.times[i].After(cut) {
		i++
	}
	if i > 0 {
		w.times = append(w.times[:0], w.times[i:]...)
	}
}

// rateHeaders sets the X-HubSpot-RateLimit-* headers.
func (s *Server) rateHeaders(ex *exchange, max, remaining int, window time.Duration) {
	h := ex.w.Header()
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(max))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(window.Milliseconds(), 10))
}

// peekRate sets the rate headers without consuming the window; hubID 0
// (unauthenticated) reports the full allowance.
func (s *Server) peekRate(ex *exchange, hubID int64) {
	s.mu.Lock()
	max, window := s.rateMax, s.rateWindow
	remaining := max
	if p, ok := s.portals[hubID]; ok {
		p.window.prune(s.now(), window)
		remaining = max - len(p.window.times)
	}
	s.mu.Unlock()
	s.rateHeaders(ex, max, clampZero(remaining), window)
}

// admit counts the call against the portal's window if there is room and
// sets the rate headers either way. Rejected calls are not counted.
func (s *Server) admit(ex *exchange, hubID int64) bool {
	s.mu.Lock()
	max, window := s.rateMax, s.rateWindow
	p := s.portals[hubID]
	now := s.now()
	p.window.prune(now, window)
	ok := len(p.window.times) < max
	if ok {
		p.window.times = append(p.window.times, now)
	}
	remaining := max - len(p.window.times)
	s.mu.Unlock()
	s.rateHeaders(ex, max, clampZero(remaining), window)
	return ok
}

func clampZero(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// rateLimitBody is HubSpot's 429 body; it has errorType, not category.
type rateLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	RequestID     string `json:"requestId"`
	GroupName     string `json:"groupName"`
}

// rateLimited answers 429 TEN_SECONDLY_ROLLING with Remaining 0.
func (s *Server) rateLimited(ex *exchange, hubID int64) {
	s.mu.Lock()
	max, window := s.rateMax, s.rateWindow
	s.mu.Unlock()
	s.rateHeaders(ex, max, 0, window)
	ex.category = "RATE_LIMIT"
	ex.json(http.StatusTooManyRequests, rateLimitBody{
		Status:        "error",
		Message:       "You have reached your ten_secondly_rolling limit.",
		ErrorType:     "RATE_LIMIT",
		CorrelationID: newUUID(),
		PolicyName:    "TEN_SECONDLY_ROLLING",
		RequestID:     newUUID(),
		GroupName:     fmt.Sprintf("publicapi:oauth:%d:%d", s.opts.AppID, hubID),
	})
}
