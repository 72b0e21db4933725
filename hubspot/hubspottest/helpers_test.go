package hubspottest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

const (
	callbackURL = "https://app.refhub.test/oauth/callback"
	hubAcme     = int64(1001)
	hubGlobex   = int64(2002)
	userAdmin   = int64(5)
	userOps     = int64(6)
	userGlobex  = int64(7)

	upsertPath   = "/crm/objects/2026-03/contacts/batch/upsert"
	readPath     = "/crm/objects/2026-03/contacts/batch/read"
	createPath   = "/crm/objects/2026-03/contacts/batch/create"
	updatePath   = "/crm/objects/2026-03/contacts/batch/update"
	propsPath    = "/crm/properties/2026-03/contacts"
	groupsPath   = "/crm/properties/2026-03/contacts/groups"
	tokenPath    = "/oauth/2026-03/token"
	introPath    = "/oauth/2026-03/token/introspect"
	revokePath   = "/oauth/2026-03/token/revoke"
	authorizeURL = "/oauth/authorize"
)

var requiredScope = strings.Join(hubspottest.DefaultRequiredScopes(), " ")

// fakeClock is a settable clock for Options.Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running simulator with two portals and a fake clock.
type env struct {
	t     *testing.T
	s     *hubspottest.Server
	clock *fakeClock
}

func newEnv(t *testing.T, mods ...func(*hubspottest.Options)) *env {
	t.Helper()
	clock := newClock()
	opts := hubspottest.Options{RedirectURIs: []string{callbackURL}, Clock: clock.Now}
	for _, m := range mods {
		m(&opts)
	}
	s := hubspottest.NewTestServer(t, opts)
	s.AddPortal(hubspottest.Portal{HubID: hubAcme, Domain: "acme.hubspot.com", Users: []hubspottest.User{
		{ID: userAdmin, Email: "admin@acme.test"}, {ID: userOps, Email: "ops@acme.test"},
	}})
	s.AddPortal(hubspottest.Portal{HubID: hubGlobex, Domain: "globex.hubspot.com", Users: []hubspottest.User{
		{ID: userGlobex, Email: "hank@globex.test"},
	}})
	return &env{t: t, s: s, clock: clock}
}

// token issues a full-scope access token for the portal's first user.
func (e *env) token(hub int64) string {
	e.t.Helper()
	user := map[int64]int64{hubAcme: userAdmin, hubGlobex: userGlobex}[hub]
	at, _ := e.s.IssueTokens(hub, user, nil)
	return at
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

func (e *env) do(method, path, contentType, auth string, body io.Reader) response {
	e.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.s.URL() + path
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(e.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := noRedirect.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// postJSON sends body (a string is sent verbatim) with a bearer token.
func (e *env) postJSON(path, token string, body any) response {
	e.t.Helper()
	var raw []byte
	if s, ok := body.(string); ok {
		raw = []byte(s)
	} else {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(e.t, err)
	}
	return e.do(http.MethodPost, path, "application/json", token, bytes.NewReader(raw))
}

func (e *env) get(path, token string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, "", token, nil)
}

func (e *env) postForm(path string, v url.Values) response {
	e.t.Helper()
	return e.do(http.MethodPost, path, "application/x-www-form-urlencoded", "", strings.NewReader(v.Encode()))
}

// clientForm returns the app's client credentials plus kv pairs.
func clientForm(kv ...string) url.Values {
	v := url.Values{"client_id": {"test-client-id"}, "client_secret": {"test-client-secret"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// authorizeQuery builds a valid authorize query.
func authorizeQuery(kv ...string) url.Values {
	v := url.Values{
		"client_id":    {"test-client-id"},
		"redirect_uri": {callbackURL},
		"scope":        {requiredScope},
		"state":        {"st-123"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// location parses the Location header of a redirect.
func (r response) location(t *testing.T) *url.URL {
	t.Helper()
	require.Equal(t, http.StatusFound, r.status, "body: %s", r.body)
	u, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	return u
}

// authCode runs an auto-approved authorize request and returns the code.
func (e *env) authCode(hub, user int64) string {
	e.t.Helper()
	e.s.AutoApprove(hub, user)
	defer e.s.AutoApprove(0, 0)
	u := e.get(authorizeURL+"?"+authorizeQuery().Encode(), "").location(e.t)
	code := u.Query().Get("code")
	require.NotEmpty(e.t, code)
	return code
}

// exchange redeems a code at the token endpoint.
func (e *env) exchange(code string) response {
	e.t.Helper()
	return e.postForm(tokenPath, clientForm("grant_type", "authorization_code", "code", code, "redirect_uri", callbackURL))
}

// tokens holds a decoded token response.
type tokens struct {
	TokenType    string   `json:"token_type"`
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresIn    int      `json:"expires_in"`
	HubID        int64    `json:"hub_id"`
	UserID       int64    `json:"user_id"`
	Scopes       []string `json:"scopes"`
	TokenUse     string   `json:"token_use"`
}

// install performs the whole OAuth flow and returns the tokens.
func (e *env) install(hub, user int64) tokens {
	e.t.Helper()
	res := e.exchange(e.authCode(hub, user))
	require.Equal(e.t, http.StatusOK, res.status, "body: %s", res.body)
	var tk tokens
	res.decode(e.t, &tk)
	return tk
}

func (e *env) refresh(rt string) response {
	e.t.Helper()
	return e.postForm(tokenPath, clientForm("grant_type", "refresh_token", "refresh_token", rt))
}

// upsertInput builds an upsert-by-email input.
func upsertInput(email string, props map[string]string) map[string]any {
	return map[string]any{"id": email, "idProperty": "email", "properties": props}
}

func inputs(in ...map[string]any) map[string]any { return map[string]any{"inputs": in} }

// batchResult is a decoded batch response.
type batchResult struct {
	Status    string `json:"status"`
	NumErrors int    `json:"numErrors"`
	Results   []struct {
		ID                 string             `json:"id"`
		Properties         map[string]*string `json:"properties"`
		CreatedAt          string             `json:"createdAt"`
		UpdatedAt          string             `json:"updatedAt"`
		Archived           bool               `json:"archived"`
		New                *bool              `json:"new"`
		ObjectWriteTraceID string             `json:"objectWriteTraceId"`
	} `json:"results"`
	Errors []struct {
		Status   string              `json:"status"`
		Category string              `json:"category"`
		Message  string              `json:"message"`
		Context  map[string][]string `json:"context"`
	} `json:"errors"`
	StartedAt   string `json:"startedAt"`
	CompletedAt string `json:"completedAt"`
}

func (r response) batch(t *testing.T) batchResult {
	t.Helper()
	var b batchResult
	r.decode(t, &b)
	return b
}

// apiErr is a decoded HubSpot error body.
type apiErr struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory"`
	Context       map[string][]string `json:"context"`
	Errors        []struct {
		Message string              `json:"message"`
		Context map[string][]string `json:"context"`
	} `json:"errors"`
}

// apiError decodes an error body and checks its invariant fields.
func (r response) apiError(t *testing.T, status int, category string) apiErr {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	var e apiErr
	r.decode(t, &e)
	require.Equal(t, "error", e.Status)
	require.Equal(t, category, e.Category, "body: %s", r.body)
	require.Regexp(t, uuidPattern, e.CorrelationID)
	return e
}

const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`

// propIssue is one entry of the JSON embedded in a validation message.
type propIssue struct {
	IsValid               bool   `json:"isValid"`
	Message               string `json:"message"`
	Error                 string `json:"error"`
	Name                  string `json:"name"`
	LocalizedErrorMessage string `json:"localizedErrorMessage"`
}

const issuesPrefix = "Property values were not valid: "

// issues parses the embedded property issues out of a validation message.
func issues(t *testing.T, message string) []propIssue {
	t.Helper()
	require.True(t, strings.HasPrefix(message, issuesPrefix), "message: %s", message)
	var out []propIssue
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(message, issuesPrefix)), &out))
	return out
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
