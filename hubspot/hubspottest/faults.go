package hubspottest

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// hangLimit bounds how long a hanging call is held when the client never
// gives up.
const hangLimit = 2 * time.Minute

// Faults injects failures into the simulator. The zero value injects none.
type Faults struct {
	// ErrorRate is the share (0..1) of authenticated CRM calls answered with
	// one of Statuses instead of being processed.
	ErrorRate float64
	// Statuses to pick from, e.g. 500, 502, 503, 423, 477, 429; default
	// [500]. 429 gets the real rate-limit body; 423 and 477 get Retry-After.
	Statuses []int
	// RetryAfter, if set, is sent as Retry-After (whole seconds) with every
	// injected status; otherwise 423 says 2 s, 477 says 5 s and a 429 has
	// none (HubSpot documents none for its REST rate limits).
	RetryAfter time.Duration
	// Latency is added to every CRM and OAuth call (real time).
	Latency time.Duration
	// HangRate is the share of authenticated CRM calls held until the client
	// gives up or 2 minutes pass; then 504 is answered.
	HangRate float64
	// OutageUntil makes every CRM call answer 500 until then, by Clock.
	OutageUntil time.Time
	// Seed makes the random draws deterministic.
	Seed int64
}

// SetFaults replaces the fault configuration and reseeds the random source.
func (s *Server) SetFaults(f Faults) {
	f.Statuses = append([]int(nil), f.Statuses...)
	if len(f.Statuses) == 0 {
		f.Statuses = []int{http.StatusInternalServerError}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x5eed))
}

// delay holds the request for the configured latency, ending early if the
// client goes away or the server shuts down.
func (s *Server) delay(r *http.Request) {
	s.mu.Lock()
	d := s.faults.Latency
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.stop:
	}
}

// inOutage reports whether the simulated outage is on.
func (s *Server) inOutage() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().Before(s.faults.OutageUntil)
}

// drawFault decides whether this call hangs or fails with a status.
func (s *Server) drawFault() (hang bool, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.HangRate > 0 && s.rng.Float64() < f.HangRate {
		return true, 0
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		return false, f.Statuses[s.rng.IntN(len(f.Statuses))]
	}
	return false, 0
}

// hang holds the call until the client gives up, the server shuts down or
// hangLimit passes, then answers 504.
func (s *Server) hang(ex *exchange) {
	ex.injected = true
	// Read the body first: only then does net/http notice that the client
	// went away (and cancel the request's context).
	_, _ = io.Copy(io.Discard, io.LimitReader(ex.r.Body, maxBodyBytes))
	t := time.NewTimer(hangLimit)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ex.r.Context().Done():
	case <-s.stop:
	}
	ex.fail(http.StatusGatewayTimeout, "GATEWAY_TIMEOUT", "The request timed out.", nil)
}

// injectStatus answers a simulated failure with the given status.
func (s *Server) injectStatus(ex *exchange, status int) {
	ex.injected = true
	s.mu.Lock()
	after := s.faults.RetryAfter
	s.mu.Unlock()
	retryAfter := func(def time.Duration) {
		if after > 0 {
			def = after
		}
		if def > 0 {
			ex.w.Header().Set("Retry-After", strconv.Itoa(int(def/time.Second)))
		}
	}
	switch status {
	case http.StatusTooManyRequests:
		retryAfter(0)
		s.rateLimited(ex, ex.hubID)
		return
	case http.StatusLocked:
		retryAfter(2 * time.Second)
		ex.fail(status, "LOCKED", "The resource is locked by a concurrent high-volume update; retry after at least 2 seconds.", nil)
		return
	case 477:
		retryAfter(5 * time.Second)
		ex.fail(status, "MIGRATION_IN_PROGRESS", "The account is being migrated between data centers; retry after the Retry-After delay.", nil)
		return
	}
	retryAfter(0)
	category := map[int]string{
		http.StatusBadGateway:         "BAD_GATEWAY",
		http.StatusServiceUnavailable: "SERVICE_UNAVAILABLE",
		http.StatusGatewayTimeout:     "GATEWAY_TIMEOUT",
	}[status]
	if category == "" {
		category = "INTERNAL_ERROR"
	}
	ex.fail(status, category, "An internal error occurred (injected fault).", nil)
}
