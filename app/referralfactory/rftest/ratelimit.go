package rftest

import (
	"net/http"
	"strconv"
	"time"
)

// rateState is the burst limit per API token and the abuse record per IP.
//
// Referral Factory documents "600 API calls per one minute" per
// application (access token), and that abusing the limit "more than three
// times" blocks the application's IP (one version of its docs says for 7
// days). The window's shape is not documented; this is Laravel's throttle:
// a fixed window that opens with the first call. One abuse is one window in
// which a call was refused.
type rateState struct {
	windows map[int64]*window    // per account
	abuses  map[string]int       // per IP
	blocks  map[string]time.Time // per IP: blocked until
}

type window struct {
	start  time.Time
	count  int
	abused bool
}

func newRateState() rateState {
	return rateState{windows: make(map[int64]*window), abuses: make(map[string]int), blocks: make(map[string]time.Time)}
}

// admit counts the call against the account's window and answers 429 (or,
// on the abuse that crosses the limit, the block) when it is spent. It sets
// the X-RateLimit headers either way.
func (s *Server) admit(ex *exchange, accountID int64, now time.Time) bool {
	s.mu.Lock()
	max, span := s.opts.RateLimit, s.opts.RateWindow
	w := s.rate.windows[accountID]
	if w == nil || !now.Before(w.start.Add(span)) {
		w = &window{start: now}
		s.rate.windows[accountID] = w
	}
	if w.count < max {
		w.count++
		remaining := max - w.count
		s.mu.Unlock()
		ex.rateHeaders(max, remaining)
		return true
	}
	var blockedNow bool
	if !w.abused {
		w.abused = true
		s.rate.abuses[ex.rec.IP]++
		if s.rate.abuses[ex.rec.IP] > s.opts.AbuseLimit {
			s.rate.blocks[ex.rec.IP] = now.Add(s.opts.BlockFor)
			delete(s.rate.abuses, ex.rec.IP)
			blockedNow = true
		}
	}
	reset := w.start.Add(span)
	s.mu.Unlock()
	if blockedNow {
		ex.blocked(s.opts.BlockFor)
		return false
	}
	ex.rateHeaders(max, 0)
	h := ex.w.Header()
	h.Set("Retry-After", seconds(reset.Sub(now)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	ex.rec.RateLimited = true
	ex.fail(http.StatusTooManyRequests, "Too Many Attempts.", nil)
	return false
}

func (ex *exchange) rateHeaders(max, remaining int) {
	ex.w.Header().Set("X-RateLimit-Limit", strconv.Itoa(max))
	ex.w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
}

// blockedFor reports whether ip is blocked and for how much longer.
func (s *Server) blockedFor(ip string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.rate.blocks[ip]
	if !ok {
		return 0, false
	}
	if !now.Before(until) {
		delete(s.rate.blocks, ip)
		return 0, false
	}
	return until.Sub(now), true
}

// blocked answers a blocked IP. Referral Factory documents the block but
// not its answer: 403 in its error shape, with Retry-After, is assumed.
func (ex *exchange) blocked(left time.Duration) {
	ex.rec.Blocked = true
	ex.w.Header().Set("Retry-After", seconds(left))
	ex.fail(http.StatusForbidden, "Your IP address has been blocked from the API for abusing its rate limit.", nil)
}

// Blocked reports whether ip is blocked from the API now.
func (s *Server) Blocked(ip string) bool {
	_, ok := s.blockedFor(ip, s.now())
	return ok
}

// Unblock lifts a block and forgets the IP's abuses, as support would.
func (s *Server) Unblock(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rate.blocks, ip)
	delete(s.rate.abuses, ip)
}

// seconds renders d as whole seconds for Retry-After, rounding up so a
// client that waits that long finds the window open.
func seconds(d time.Duration) string {
	n := int64((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return strconv.FormatInt(n, 10)
}

// Fault is an answer forced on the next API calls, as if Referral Factory
// (or what stands in front of it) failed.
type Fault struct {
	Status int // e.g. 500, 502, 503
	// Count is how many API calls get it; default 1.
	Count int
	// RetryAfter, when set, is sent as a Retry-After header.
	RetryAfter time.Duration
}

// InjectFault queues f for the next API calls (after the IP block check,
// before authentication).
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	if s.faults[0].Count--; s.faults[0].Count == 0 {
		s.faults = s.faults[1:]
	}
	return f, true
}
