package hubspottest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// apiVersions are the date-based API versions the simulator serves; any
// other version segment is answered with 404.
var apiVersions = map[string]bool{"2026-03": true, "2026-09": true}

// Scopes the CRM endpoints require.
const (
	scopeContactsRead  = "crm.objects.contacts.read"
	scopeContactsWrite = "crm.objects.contacts.write"
	scopeSchemasRead   = "crm.schemas.contacts.read"
	scopeSchemasWrite  = "crm.schemas.contacts.write"
)

// endpoint describes one method of one simulated route.
type endpoint struct {
	name      string
	crm       bool   // bearer auth, rate limit, faults
	versioned bool   // path carries an API version in {v}
	scope     string // scope required for CRM endpoints
	jsonBody  bool   // requires Content-Type application/json
	handle    func(*exchange)
}

// routes registers every endpoint in one place so grep finds them all.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	add := func(path string, eps map[string]endpoint) {
		mux.Handle(path, s.dispatch(eps))
	}
	add("/oauth/authorize", map[string]endpoint{
		http.MethodGet: {name: "oauth.authorize", handle: s.handleAuthorize},
	})
	add("/oauth/authorize/decision", map[string]endpoint{
		http.MethodPost: {name: "oauth.authorize", handle: s.handleDecision},
	})
	add("/oauth/{v}/token", map[string]endpoint{
		http.MethodPost: {name: "oauth.token", versioned: true, handle: s.handleToken},
	})
	add("/oauth/{v}/token/introspect", map[string]endpoint{
		http.MethodPost: {name: "oauth.introspect", versioned: true, handle: s.handleIntrospect},
	})
	add("/oauth/{v}/token/revoke", map[string]endpoint{
		http.MethodPost: {name: "oauth.revoke", versioned: true, handle: s.handleRevoke},
	})
	batch := func(op, scope string, h func(*exchange)) {
		add("/crm/objects/{v}/contacts/batch/"+op, map[string]endpoint{
			http.MethodPost: crmEndpoint("contacts.batch."+op, scope, true, h),
		})
	}
	batch("upsert", scopeContactsWrite, s.handleUpsert)
	batch("read", scopeContactsRead, s.handleRead)
	batch("create", scopeContactsWrite, s.handleCreate)
	batch("update", scopeContactsWrite, s.handleUpdate)
	add("/crm/properties/{v}/contacts", map[string]endpoint{
		http.MethodGet:  crmEndpoint("properties.list", scopeSchemasRead, false, s.handleListProperties),
		http.MethodPost: crmEndpoint("properties.create", scopeSchemasWrite, true, s.handleCreateProperty),
	})
	add("/crm/properties/{v}/contacts/groups", map[string]endpoint{
		http.MethodGet:  crmEndpoint("groups.list", scopeSchemasRead, false, s.handleListGroups),
		http.MethodPost: crmEndpoint("groups.create", scopeSchemasWrite, true, s.handleCreateGroup),
	})
	mux.Handle("/", s.dispatch(nil))
	return mux
}

func crmEndpoint(name, scope string, jsonBody bool, h func(*exchange)) endpoint {
	return endpoint{name: name, crm: true, versioned: true, scope: scope, jsonBody: jsonBody, handle: h}
}

// dispatch picks the endpoint for the request method and runs it inside the
// common envelope: request log, injected latency, CRM pipeline.
func (s *Server) dispatch(eps map[string]endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := s.newExchange(w, r)
		defer ex.finish()
		ep, ok := eps[r.Method]
		switch {
		case eps == nil:
			ex.notFound()
			return
		case !ok:
			ex.methodNotAllowed(eps)
			return
		case ep.versioned && !apiVersions[r.PathValue("v")]:
			ex.notFound()
			return
		}
		ex.endpoint = ep.name
		s.arrived(ex)
		s.delay(r)
		if ep.crm {
			s.serveCRM(ex, ep)
			return
		}
		ep.handle(ex)
	})
}

func (ex *exchange) notFound() {
	ex.endpoint = "unknown"
	ex.fail(http.StatusNotFound, "OBJECT_NOT_FOUND",
		fmt.Sprintf("Unable to route %s request to %s: no such endpoint", ex.r.Method, ex.r.URL.Path), nil)
}

func (ex *exchange) methodNotAllowed(eps map[string]endpoint) {
	ex.endpoint = "unknown"
	methods := make([]string, 0, len(eps))
	for m := range eps {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	if eps[methods[0]].crm {
		ex.s.peekRate(ex, 0)
	}
	ex.w.Header().Set("Allow", strings.Join(methods, ", "))
	ex.fail(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP method %s is not supported by %s", ex.r.Method, ex.r.URL.Path), nil)
}
