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
	// accept, when set, replaces scope: any one of the scopes it returns
	// for the request suffices and the first is the one a 403 names; none
	// means no scope is needed (the handler refuses the request itself).
	accept   func(*http.Request) []string
	jsonBody bool // requires Content-Type application/json
	handle   func(*exchange)
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
		http.MethodGet:  crmEndpoint("properties.list", scopeSchemasRead, false, s.listProperties(contactsKind)),
		http.MethodPost: crmEndpoint("properties.create", scopeSchemasWrite, true, s.createPropertyOf(contactsKind)),
	})
	add("/crm/properties/{v}/contacts/groups", map[string]endpoint{
		http.MethodGet:  crmEndpoint("groups.list", scopeSchemasRead, false, s.listGroups(contactsKind)),
		http.MethodPost: crmEndpoint("groups.create", scopeSchemasWrite, true, s.createGroupOf(contactsKind)),
	})
	s.dealRoutes(add)
	s.associationRoutes(add)
	mux.Handle("/", s.dispatch(nil))
	return mux
}

// adder registers the endpoints of one path.
type adder func(path string, eps map[string]endpoint)

// dealRoutes registers GDPR deletion, deals, their properties and
// pipelines.
func (s *Server) dealRoutes(add adder) {
	add("/crm/objects/{v}/contacts/gdpr-delete", map[string]endpoint{
		http.MethodPost: crmEndpoint("contacts.gdpr-delete", scopeContactsWrite, true, s.handleGDPRDelete),
	})
	add("/crm/objects/{v}/deals/batch/upsert", map[string]endpoint{
		http.MethodPost: crmEndpoint("deals.batch.upsert", dealsKind.writeScope, true, s.handleDealUpsert),
	})
	add("/crm/objects/{v}/deals/batch/create", map[string]endpoint{
		http.MethodPost: crmEndpoint("deals.batch.create", dealsKind.writeScope, true, s.handleDealCreate),
	})
	add("/crm/objects/{v}/deals/batch/read", map[string]endpoint{
		http.MethodPost: crmEndpoint("deals.batch.read", dealsKind.readScope, true, s.handleDealRead),
	})
	add("/crm/properties/{v}/deals", map[string]endpoint{
		http.MethodGet:  scopedEndpoint("deals.properties.list", false, accept(dealsKind.schemaReadScopes()...), s.listProperties(dealsKind)),
		http.MethodPost: crmEndpoint("deals.properties.create", dealsKind.schemaWrite, true, s.createPropertyOf(dealsKind)),
	})
	add("/crm/properties/{v}/deals/groups", map[string]endpoint{
		http.MethodGet:  scopedEndpoint("deals.groups.list", false, accept(dealsKind.schemaReadScopes()...), s.listGroups(dealsKind)),
		http.MethodPost: crmEndpoint("deals.groups.create", dealsKind.schemaWrite, true, s.createGroupOf(dealsKind)),
	})
	add("/crm/pipelines/{v}/deals", map[string]endpoint{
		http.MethodGet: scopedEndpoint("pipelines.list", false, accept(dealsKind.schemaReadScopes()...), s.handleListPipelines),
	})
}

// associationRoutes registers association labels and batches; their
// scopes follow the {from} object type.
func (s *Server) associationRoutes(add adder) {
	objectScopes := fromScopes((*objectKind).anyScopeOf)
	writeScope := fromScopes(func(k *objectKind) []string { return []string{k.writeScope} })
	add("/crm/associations/{v}/{from}/{to}/labels", map[string]endpoint{
		http.MethodGet:  scopedEndpoint("associations.labels.list", false, objectScopes, s.handleListLabels),
		http.MethodPost: scopedEndpoint("associations.labels.create", true, writeScope, s.handleCreateLabel),
	})
	add("/crm/associations/{v}/{from}/{to}/batch/create", map[string]endpoint{
		http.MethodPost: scopedEndpoint("associations.batch.create", true, writeScope, s.handleAssocCreate),
	})
	add("/crm/associations/{v}/{from}/{to}/batch/associate/default", map[string]endpoint{
		http.MethodPost: scopedEndpoint("associations.batch.default", true, writeScope, s.handleAssocDefault),
	})
	add("/crm/associations/{v}/{from}/{to}/batch/read", map[string]endpoint{
		http.MethodPost: scopedEndpoint("associations.batch.read", true, objectScopes, s.handleAssocRead),
	})
}

func crmEndpoint(name, scope string, jsonBody bool, h func(*exchange)) endpoint {
	return endpoint{name: name, crm: true, versioned: true, scope: scope, jsonBody: jsonBody, handle: h}
}

// scopedEndpoint is a CRM endpoint that any of several scopes opens.
func scopedEndpoint(name string, jsonBody bool, scopes func(*http.Request) []string, h func(*exchange)) endpoint {
	return endpoint{name: name, crm: true, versioned: true, accept: scopes, jsonBody: jsonBody, handle: h}
}

// accept is a fixed list of alternative scopes.
func accept(scopes ...string) func(*http.Request) []string {
	return func(*http.Request) []string { return scopes }
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
