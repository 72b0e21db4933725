package hubspottest_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/hubspot/hubspottest"
)

func TestAuthorizeRejectsInvalidRequestsWithoutRedirect(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.OptionalScopes = []string{"crm.objects.deals.read"} })
	cases := []struct {
		name  string
		query url.Values
		want  string
	}{
		{"missing client_id", authorizeQuery("client_id", ""), "client_id parameter is missing"},
		{"unknown client_id", authorizeQuery("client_id", "other-app"), "no app with client_id"},
		{"missing redirect_uri", authorizeQuery("redirect_uri", ""), "redirect_uri parameter is missing"},
		{"redirect mismatch", authorizeQuery("redirect_uri", callbackURL+"/x"), "doesn't match the app's registered redirect URL"},
		{"redirect differs only in case", authorizeQuery("redirect_uri", strings.ToUpper(callbackURL)), "doesn't match"},
		{"missing scope", authorizeQuery("scope", ""), "Insufficient scopes were provided"},
		{"one required scope missing", authorizeQuery("scope", "oauth crm.objects.contacts.read"), "Insufficient scopes were provided"},
		{"undeclared scope", authorizeQuery("scope", requiredScope+" tickets"), "mismatch between the scopes"},
		{"undeclared optional scope", authorizeQuery("optional_scope", "automation"), "mismatch between the scopes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(authorizeURL+"?"+tc.query.Encode(), "")
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Empty(t, res.header.Get("Location"))
			assert.Contains(t, res.header.Get("Content-Type"), "text/html")
			assert.Contains(t, html.UnescapeString(string(res.body)), tc.want)
		})
	}
	t.Run("auto approve does not bypass validation", func(t *testing.T) {
		e.s.AutoApprove(hubAcme, userAdmin)
		defer e.s.AutoApprove(0, 0)
		res := e.get(authorizeURL+"?"+authorizeQuery("scope", "oauth").Encode(), "")
		assert.Equal(t, http.StatusBadRequest, res.status)
	})
}

// consentForm fetches the consent page and returns its hidden fields.
func consentForm(t *testing.T, e *env, q url.Values) (string, url.Values) {
	t.Helper()
	res := e.get(authorizeURL+"?"+q.Encode(), "")
	require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
	page := string(res.body)
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return page, form
}

func TestConsentPageIsAccessibleAndCarriesTheRequest(t *testing.T) {
	e := newEnv(t)
	page, form := consentForm(t, e, authorizeQuery("state", "a b&c"))
	for _, want := range []string{
		`id="portal-1001-user-5"`, `<label for="portal-1001-user-5">Portal 1001 — acme.hubspot.com, as admin@acme.test</label>`,
		`id="portal-1001-user-6"`, `id="portal-2002-user-7"`, `id="approve"`, `id="deny"`,
		`<legend>Choose an account</legend>`, `lang="en"`, `action="/oauth/authorize/decision"`,
	} {
		assert.Contains(t, page, want)
	}
	assert.Equal(t, "a b&c", form.Get("state"))
	assert.Equal(t, callbackURL, form.Get("redirect_uri"))
	assert.Len(t, form.Get("nonce"), 48)
}

func TestConsentDecision(t *testing.T) {
	cases := []struct {
		name     string
		fields   []string
		status   int
		wantCode bool
		wantErr  string
	}{
		{"approve", []string{"decision", "approve", "account", "1001:6"}, http.StatusFound, true, ""},
		{"deny", []string{"decision", "deny"}, http.StatusFound, false, "access_denied"},
		{"approve without account", []string{"decision", "approve"}, http.StatusBadRequest, false, ""},
		{"unknown user", []string{"decision", "approve", "account", "1001:7"}, http.StatusBadRequest, false, ""},
		{"bad nonce", []string{"decision", "approve", "account", "1001:5", "nonce", "forged"}, http.StatusBadRequest, false, ""},
		{"tampered redirect", []string{"decision", "approve", "account", "1001:5", "redirect_uri", "https://evil.test/cb"}, http.StatusBadRequest, false, ""},
		{"tampered state", []string{"decision", "approve", "account", "1001:5", "state", "other"}, http.StatusBadRequest, false, ""},
		{"unknown decision", []string{"decision", "maybe", "account", "1001:5"}, http.StatusBadRequest, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, form := consentForm(t, e, authorizeQuery())
			for i := 0; i < len(tc.fields); i += 2 {
				form.Set(tc.fields[i], tc.fields[i+1])
			}
			res := e.postForm("/oauth/authorize/decision", form)
			require.Equal(t, tc.status, res.status, "body: %s", res.body)
			if tc.status != http.StatusFound {
				assert.Contains(t, res.header.Get("Content-Type"), "text/html")
				return
			}
			u := res.location(t)
			assert.Equal(t, callbackURL, u.Scheme+"://"+u.Host+u.Path)
			assert.Equal(t, "st-123", u.Query().Get("state"))
			assert.Equal(t, tc.wantErr, u.Query().Get("error"))
			if tc.wantErr != "" {
				assert.NotEmpty(t, u.Query().Get("error_description"))
			}
			if !tc.wantCode {
				assert.Empty(t, u.Query().Get("code"))
				return
			}
			res = e.exchange(u.Query().Get("code"))
			require.Equal(t, http.StatusOK, res.status, "body: %s", res.body)
			var tk tokens
			res.decode(t, &tk)
			assert.Equal(t, hubAcme, tk.HubID)
			assert.Equal(t, userOps, tk.UserID)
		})
	}
}

func TestConsentNonceIsSingleUse(t *testing.T) {
	e := newEnv(t)
	_, form := consentForm(t, e, authorizeQuery())
	form.Set("decision", "approve")
	form.Set("account", "2002:7")
	require.Equal(t, http.StatusFound, e.postForm("/oauth/authorize/decision", form).status)
	assert.Equal(t, http.StatusBadRequest, e.postForm("/oauth/authorize/decision", form).status)
}

func TestConsentNonceExpires(t *testing.T) {
	e := newEnv(t)
	_, form := consentForm(t, e, authorizeQuery())
	form.Set("decision", "approve")
	form.Set("account", "1001:5")
	e.clock.Advance(31 * time.Minute)
	assert.Equal(t, http.StatusBadRequest, e.postForm("/oauth/authorize/decision", form).status)
}

func TestConsentDecisionRequiresForm(t *testing.T) {
	e := newEnv(t)
	_, form := consentForm(t, e, authorizeQuery())
	form.Set("decision", "approve")
	res := e.do(http.MethodPost, "/oauth/authorize/decision", "text/plain", "", strings.NewReader(form.Encode()))
	assert.Equal(t, http.StatusBadRequest, res.status)
}

func TestAutoApproveAndAutoDeny(t *testing.T) {
	e := newEnv(t)
	q := authorizeQuery().Encode()

	e.s.AutoApprove(hubGlobex, userGlobex)
	first := e.get(authorizeURL+"?"+q, "").location(t)
	second := e.get(authorizeURL+"?"+q, "").location(t)
	assert.NotEmpty(t, first.Query().Get("code"))
	assert.NotEqual(t, first.Query().Get("code"), second.Query().Get("code"), "auto approve is sticky and mints fresh codes")
	assert.Equal(t, "st-123", first.Query().Get("state"))

	e.s.AutoDeny(true)
	denied := e.get(authorizeURL+"?"+q, "").location(t)
	assert.Equal(t, "access_denied", denied.Query().Get("error"), "deny wins over approve")
	assert.Equal(t, "st-123", denied.Query().Get("state"))

	e.s.AutoDeny(false)
	e.s.AutoApprove(0, 0)
	assert.Equal(t, http.StatusOK, e.get(authorizeURL+"?"+q, "").status, "cleared: consent page again")

	e.s.AutoApprove(9999, 1)
	assert.Equal(t, http.StatusBadRequest, e.get(authorizeURL+"?"+q, "").status, "unknown portal")
}

func TestAuthorizeRedirectKeepsQueryAndOmitsEmptyState(t *testing.T) {
	withQuery := callbackURL + "?tenant=t1"
	e := newEnv(t, func(o *hubspottest.Options) { o.RedirectURIs = []string{callbackURL, withQuery} })
	e.s.AutoApprove(hubAcme, userAdmin)
	u := e.get(authorizeURL+"?"+authorizeQuery("redirect_uri", withQuery, "state", "").Encode(), "").location(t)
	assert.Equal(t, "t1", u.Query().Get("tenant"))
	assert.NotEmpty(t, u.Query().Get("code"))
	_, hasState := u.Query()["state"]
	assert.False(t, hasState)
}

func TestOptionalScopesAreGranted(t *testing.T) {
	e := newEnv(t, func(o *hubspottest.Options) { o.OptionalScopes = []string{"crm.objects.deals.read"} })
	e.s.AutoApprove(hubAcme, userAdmin)
	u := e.get(authorizeURL+"?"+authorizeQuery("optional_scope", "crm.objects.deals.read").Encode(), "").location(t)
	res := e.exchange(u.Query().Get("code"))
	var tk tokens
	res.decode(t, &tk)
	assert.ElementsMatch(t, append(append([]string{}, hubspottest.DefaultRequiredScopes()...), "crm.objects.deals.read"), tk.Scopes)
}
