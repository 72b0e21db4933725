package hubspottest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// consentTTL is how long a rendered consent page can be submitted.
const consentTTL = 30 * time.Minute

// authorizeRequest is a validated GET /oauth/authorize request.
type authorizeRequest struct {
	ClientID      string
	RedirectURI   string
	Scope         string
	OptionalScope string
	State         string
	granted       []string
}

// consentRequest is a rendered consent page awaiting its decision.
type consentRequest struct {
	req     authorizeRequest
	expires time.Time
}

// parseAuthorize validates the authorize parameters the way HubSpot's
// install page does; the returned message is shown on an error page.
func (s *Server) parseAuthorize(q url.Values) (authorizeRequest, string) {
	req := authorizeRequest{
		ClientID:      q.Get("client_id"),
		RedirectURI:   q.Get("redirect_uri"),
		Scope:         q.Get("scope"),
		OptionalScope: q.Get("optional_scope"),
		State:         q.Get("state"),
	}
	switch {
	case req.ClientID == "":
		return req, "Authorization failed because the client_id parameter is missing."
	case req.ClientID != s.opts.ClientID:
		return req, fmt.Sprintf("Authorization failed because no app with client_id %q exists.", req.ClientID)
	case req.RedirectURI == "":
		return req, "Authorization failed because the redirect_uri parameter is missing."
	case !slices.Contains(s.opts.RedirectURIs, req.RedirectURI):
		return req, fmt.Sprintf("Authorization failed because the redirect URL %q doesn't match the app's registered redirect URL.", req.RedirectURI)
	}
	scopes := strings.Fields(req.Scope)
	optional := strings.Fields(req.OptionalScope)
	var missing []string
	for _, sc := range s.opts.RequiredScopes {
		if !slices.Contains(scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		return req, "Insufficient scopes were provided. The install URL is missing required scopes: " + strings.Join(missing, ", ")
	}
	declared := s.declaredScopes()
	var undeclared []string
	for _, sc := range append(append([]string(nil), scopes...), optional...) {
		if !slices.Contains(declared, sc) && !slices.Contains(undeclared, sc) {
			undeclared = append(undeclared, sc)
		}
	}
	if len(undeclared) > 0 {
		return req, "Authorization failed because there is a mismatch between the scopes in the install URL and the app's configured scopes: the app doesn't have permission to request " + strings.Join(undeclared, ", ")
	}
	for _, sc := range append(scopes, optional...) {
		if !slices.Contains(req.granted, sc) {
			req.granted = append(req.granted, sc)
		}
	}
	return req, ""
}

// handleAuthorize serves GET /oauth/authorize.
func (s *Server) handleAuthorize(ex *exchange) {
	req, msg := s.parseAuthorize(ex.r.URL.Query())
	if msg != "" {
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError(msg))
		return
	}
	s.mu.Lock()
	deny, hub, user := s.autoDeny, s.autoHub, s.autoUser
	s.mu.Unlock()
	switch {
	case deny:
		ex.category = "access_denied"
		ex.redirect(denyURL(req))
	case hub != 0:
		s.approve(ex, req, hub, user)
	default:
		s.renderConsent(ex, req)
	}
}

// renderConsent shows the account picker with a fresh single-use nonce.
func (s *Server) renderConsent(ex *exchange, req authorizeRequest) {
	nonce := randomHex(24)
	s.mu.Lock()
	now := s.now()
	for k, c := range s.consents {
		if now.After(c.expires) {
			delete(s.consents, k)
		}
	}
	s.consents[nonce] = &consentRequest{req: req, expires: now.Add(consentTTL)}
	s.mu.Unlock()
	ex.html(http.StatusOK, renderConsent(req, nonce, s.Portals(), s.opts.AppID))
}

// handleDecision serves the consent form's POST /oauth/authorize/decision.
func (s *Server) handleDecision(ex *exchange) {
	if !isForm(ex.r) {
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError("The consent form must be submitted as application/x-www-form-urlencoded."))
		return
	}
	if err := ex.r.ParseForm(); err != nil {
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError("The consent form could not be read."))
		return
	}
	f := ex.r.PostForm
	req, msg := s.takeConsent(f)
	if msg != "" {
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError(msg))
		return
	}
	switch f.Get("decision") {
	case "deny":
		s.dropConsent(f.Get("nonce"))
		ex.category = "access_denied"
		ex.redirect(denyURL(req))
	case "approve":
		hub, user, ok := parseAccount(f.Get("account"))
		if !ok {
			ex.category = "INVALID_AUTHORIZE_REQUEST"
			ex.html(http.StatusBadRequest, renderError("Choose an account to connect before approving."))
			return
		}
		s.dropConsent(f.Get("nonce"))
		s.approve(ex, req, hub, user)
	default:
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError("Unknown decision; press Approve or Deny."))
	}
}

// takeConsent checks the posted nonce and that the carried request
// parameters are the ones the server rendered.
func (s *Server) takeConsent(f url.Values) (authorizeRequest, string) {
	s.mu.Lock()
	c, ok := s.consents[f.Get("nonce")]
	if ok && s.now().After(c.expires) {
		delete(s.consents, f.Get("nonce"))
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return authorizeRequest{}, "This authorization request is no longer valid. Start the installation again."
	}
	r := c.req
	if f.Get("client_id") != r.ClientID || f.Get("redirect_uri") != r.RedirectURI ||
		f.Get("scope") != r.Scope || f.Get("optional_scope") != r.OptionalScope || f.Get("state") != r.State {
		return authorizeRequest{}, "The authorization request parameters do not match the consent page that was shown."
	}
	return r, ""
}

func (s *Server) dropConsent(nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.consents, nonce)
}

// approve issues a code for the portal user and redirects back to the app.
func (s *Server) approve(ex *exchange, req authorizeRequest, hubID, userID int64) {
	s.mu.Lock()
	p, ok := s.portals[hubID]
	if ok {
		_, ok = p.info.user(userID)
		ok = ok && !p.deactivated[userID]
	}
	var code string
	if ok {
		code = "na1-" + newUUID()
		s.codes[code] = &authCode{
			hubID: hubID, userID: userID, scopes: req.granted,
			clientID: req.ClientID, redirectURI: req.RedirectURI, issued: s.now(),
		}
	}
	s.mu.Unlock()
	if !ok {
		ex.category = "INVALID_AUTHORIZE_REQUEST"
		ex.html(http.StatusBadRequest, renderError(fmt.Sprintf("Portal %d has no user %d.", hubID, userID)))
		return
	}
	ex.hubID = hubID
	ex.redirect(withQuery(req.RedirectURI, "code", code, "state", req.State))
}

func denyURL(req authorizeRequest) string {
	return withQuery(req.RedirectURI, "error", "access_denied",
		"error_description", "The user denied access to the app.", "state", req.State)
}

// withQuery appends key/value pairs to u, skipping empty values.
func withQuery(u string, kv ...string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// parseAccount reads a consent radio value "hubID:userID".
func parseAccount(v string) (hubID, userID int64, ok bool) {
	h, u, found := strings.Cut(v, ":")
	if !found {
		return 0, 0, false
	}
	hub, err1 := strconv.ParseInt(h, 10, 64)
	user, err2 := strconv.ParseInt(u, 10, 64)
	return hub, user, err1 == nil && err2 == nil
}
