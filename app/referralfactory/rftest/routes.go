package rftest

import (
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strings"
)

// endpoint is one method of one simulated route.
type endpoint struct {
	name   string
	api    bool // the REST API: IP block, Accept, Bearer token, rate limit
	handle func(*exchange)
}

// routes registers every endpoint in one place so grep finds them all.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern string, eps map[string]endpoint) { mux.Handle(pattern, s.dispatch(eps)) }
	add("/api/v2/users", map[string]endpoint{
		http.MethodGet: {name: "users.list", api: true, handle: s.handleListUsers},
	})
	add("/api/v2/users/{identifier}", map[string]endpoint{
		http.MethodGet: {name: "users.get", api: true, handle: s.handleGetUser},
	})
	add("/webhook/{token}/qualify", map[string]endpoint{
		http.MethodPost: {name: "webhook.qualify", handle: s.handleQualify},
	})
	mux.Handle("/", s.dispatch(nil))
	return mux
}

// exchange is one request in flight and what the log will say about it.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	rec     Request
	account *account
}

// dispatch picks the endpoint for the method and runs it inside the common
// envelope: request log, API gate.
func (s *Server) dispatch(eps map[string]endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := &exchange{w: w, r: r, rec: Request{Time: s.now(), Method: r.Method, Path: r.URL.Path,
			Endpoint: "unknown", IP: remoteIP(r)}}
		if tok := r.PathValue("token"); tok != "" {
			// The inbound token is the customer's secret: never logged.
			ex.rec.Path = strings.Replace(r.URL.Path, tok, "{token}", 1)
		}
		defer func() { s.record(ex.rec) }()
		ep, ok := eps[r.Method]
		switch {
		case eps == nil:
			ex.fail(http.StatusNotFound, "Not Found", nil)
			return
		case !ok:
			w.Header().Set("Allow", strings.Join(methods(eps), ", "))
			ex.fail(http.StatusMethodNotAllowed, "Method Not Allowed", nil)
			return
		}
		ex.rec.Endpoint = ep.name
		if ep.api && !s.apiGate(ex) {
			return
		}
		ep.handle(ex)
	})
}

func methods(eps map[string]endpoint) []string {
	out := make([]string, 0, len(eps))
	for m := range eps {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// apiGate runs what every API request goes through, in order: the IP
// block, injected faults, content negotiation, the Bearer token and the
// token's rate limit. It answers and returns false when one refuses.
func (s *Server) apiGate(ex *exchange) bool {
	now := s.now()
	if left, blocked := s.blockedFor(ex.rec.IP, now); blocked {
		ex.blocked(left)
		return false
	}
	if f, ok := s.takeFault(); ok {
		ex.rec.Injected = true
		if f.RetryAfter > 0 {
			ex.w.Header().Set("Retry-After", seconds(f.RetryAfter))
		}
		ex.fail(f.Status, http.StatusText(f.Status), nil)
		return false
	}
	if !acceptsJSON(ex.r.Header.Get("Accept")) {
		ex.fail(http.StatusNotAcceptable, "You requested a format that isn't in JSON format.", nil)
		return false
	}
	a := s.authenticate(ex.r.Header.Get("Authorization"))
	if a == nil {
		ex.fail(http.StatusUnauthorized, "Unauthenticated.", nil)
		return false
	}
	ex.account = a
	ex.rec.AccountID = a.ID
	return s.admit(ex, a.ID, now)
}

// authenticate returns the account whose active token the header carries.
func (s *Server) authenticate(header string) *account {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	token = strings.TrimSpace(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.apiTokens[token]
	if !ok {
		return nil
	}
	return s.accounts[id]
}

// acceptsJSON is false only for an Accept header that names formats and
// none of them JSON (the documented 406).
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if mt == "*/*" || mt == "application/*" || strings.HasSuffix(mt, "json") {
			return true
		}
	}
	return false
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errorBody is Referral Factory's documented error shape
// (developers.referral-factory.com/reference/errors).
type errorBody struct {
	Code    int                     `json:"code"`
	Message string                  `json:"message"`
	Errors  map[string][]fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail answers an error in Referral Factory's shape; fields are per-field
// messages of a validation error.
func (ex *exchange) fail(status int, msg string, fields map[string]string) {
	body := errorBody{Code: status, Message: msg}
	if len(fields) > 0 {
		body.Errors = make(map[string][]fieldError, len(fields))
		for f, m := range fields {
			body.Errors[f] = []fieldError{{Field: f, Message: m}}
		}
	}
	ex.json(status, body)
}

func (ex *exchange) json(status int, v any) {
	ex.rec.Status = status
	ex.w.Header().Set("Content-Type", "application/json")
	ex.w.WriteHeader(status)
	_ = json.NewEncoder(ex.w).Encode(v)
}
