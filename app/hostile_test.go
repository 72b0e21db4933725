package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/oauth"
)

// hostile is one hostile request and what refhub must answer.
type hostile struct {
	name    string
	method  string
	path    string // relative to refhub, or absolute
	ctype   string
	body    string
	header  map[string]string
	cookie  string // raw session cookie value; "" = the victim's own session when session is true
	session bool   // send the signed-in victim's cookies
	status  int
	message string // part of the answer
	queued  int    // events the request may add to the queue
}

func forgeSession(t *testing.T, key []byte, method jwt.SigningMethod, exp time.Time) string {
	claims := jwt.MapClaims{"sid": "forged", "ws": "ws_victim", "uid": 1, "email": "x@y.z",
		"iss": "refhub", "aud": []string{"refhub-session"}, "exp": exp.Unix(), "iat": time.Now().Unix()}
	tok := jwt.NewWithClaims(method, claims)
	var s string
	var err error
	if method == jwt.SigningMethodNone {
		s, err = tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	} else {
		s, err = tok.SignedString(key)
	}
	require.NoError(t, err)
	return s
}

// TestHostileInput: more than 50 hostile requests against the webhook, the
// OAuth callback, the app and the API each get the right status and a clear
// message, no panic or stack trace, and change nothing they may not.
func TestHostileInput(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	b := env.Install(1001, 501)
	src := b.CreateSource(1001, "Main")
	hook := src.WebhookURL[len(env.URL("")):]
	sessionKey := oauth.DeriveKey([]byte(env.Config.SessionSecret), "session")
	stateKey := oauth.DeriveKey([]byte(env.Config.SessionSecret), "oauth-state")
	old := oauth.NewStates(stateKey, env.Redis, func() time.Time { return time.Now().Add(-time.Hour) })
	_, expiredState, _ := old.Issue("")
	nested := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	var many strings.Builder
	many.WriteString(`{"email":"m@example.com"`)
	for i := 0; i < 600; i++ {
		many.WriteString(`,"f` + itoa(int64(i)) + `":"v"`)
	}
	many.WriteString("}")

	cases := []hostile{
		// Webhook.
		{name: "oversized body", method: "POST", path: hook, ctype: "application/json", body: `{"email":"a@b.co","x":"` + strings.Repeat("a", 1<<20) + `"}`, status: 413, message: "1 MiB"},
		{name: "invalid UTF-8", method: "POST", path: hook, ctype: "application/json", body: "{\"email\":\"a@b.co\",\"n\":\"\xc3\x28\"}", status: 400, message: "UTF-8"},
		{name: "deeply nested JSON", method: "POST", path: hook, ctype: "application/json", body: nested, status: 400, message: "nested"},
		{name: "too many fields", method: "POST", path: hook, ctype: "application/json", body: many.String(), status: 422, message: "more than 500 fields"},
		{name: "wrong content type", method: "POST", path: hook, ctype: "text/xml", body: `<a/>`, status: 415, message: "unsupported content type"},
		{name: "multipart body", method: "POST", path: hook, ctype: "multipart/form-data; boundary=x", body: "--x--", status: 415, message: "unsupported content type"},
		{name: "missing email", method: "POST", path: hook, ctype: "application/json", body: `{"first_name":"A"}`, status: 422, message: "no value there"},
		{name: "email given twice (form)", method: "POST", path: hook, ctype: "application/x-www-form-urlencoded", body: "email=a%40b.co&email=c%40d.co", status: 422, message: "appears 2 times"},
		{name: "email given twice (JSON)", method: "POST", path: hook, ctype: "application/json", body: `{"email":"a@b.co","email":"c@d.co"}`, status: 422, message: "more than once"},
		{name: "CR/LF in email", method: "POST", path: hook, ctype: "application/json", body: `{"email":"a@b.co\r\nX-Injected: 1"}`, status: 422, message: "line breaks"},
		{name: "CR/LF in a name is kept as data", method: "POST", path: hook, ctype: "application/json", body: `{"email":"crlf@b.co","first_name":"A\r\nSet-Cookie: x=1"}`, status: 202, message: "queued", queued: 1},
		{name: "markup in a name is kept as data", method: "POST", path: hook, ctype: "application/json", body: `{"email":"xss@b.co","first_name":"<script>alert(1)</script>"}`, status: 202, message: "queued", queued: 1},
		{name: "JSON array", method: "POST", path: hook, ctype: "application/json", body: `[]`, status: 400, message: "JSON object"},
		{name: "trailing garbage", method: "POST", path: hook, ctype: "application/json", body: `{"email":"a@b.co"} {"x":1}`, status: 400, message: "after the JSON object"},
		{name: "unknown token", method: "POST", path: "/hooks/referral-factory/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ctype: "application/json", body: `{"email":"a@b.co"}`, status: 404, message: "unknown webhook URL"},
		{name: "path traversal after the hook", method: "POST", path: "/hooks/referral-factory/../../api/v1/portals", ctype: "application/json", body: `{}`, status: 404, message: "no such page"},
		{name: "encoded traversal", method: "POST", path: "/hooks/referral-factory/%2e%2e%2fapp", ctype: "application/json", body: `{}`, status: 404},
		{name: "NUL in token", method: "POST", path: "/hooks/referral-factory/abc%00def", ctype: "application/json", body: `{}`, status: 404},
		{name: "method not allowed", method: "PUT", path: hook, ctype: "application/json", body: `{}`, status: 400, message: "method not allowed"},
		{name: "field name of 100 KB over a list", method: "POST", path: hook, ctype: "application/json", body: string(apptest.Amplifier(100_000, 499)), status: 422, message: "longer than 256 bytes"},
		{name: "field path over 512 bytes", method: "POST", path: hook, ctype: "application/json", body: `{"` + strings.Repeat("a", 256) + `":{"` + strings.Repeat("b", 256) + `":1}}`, status: 422, message: "longer than 512 bytes"},
		{name: "fields that multiply past the size limit", method: "POST", path: hook, ctype: "application/json", body: `{"` + strings.Repeat("A", 250) + `":` + string(apptest.Amplifier(250, 499)) + `}`, status: 413, message: "once normalized"},
		{name: "form field name of 300 bytes", method: "POST", path: hook, ctype: "application/x-www-form-urlencoded", body: "email=a%40b.co&" + strings.Repeat("k", 300) + "=1", status: 422, message: "longer than 256 bytes"},
		// OAuth callback.
		{name: "callback without state", method: "GET", path: "/oauth/callback?code=x", status: 400, message: "install link is invalid"},
		{name: "callback with forged state", method: "GET", path: "/oauth/callback?code=x&state=" + forgeSession(t, []byte("not-the-key-0123456789abcdef0123"), jwt.SigningMethodHS256, time.Now().Add(time.Hour)), status: 400, message: "install link is invalid"},
		{name: "callback with expired state", method: "GET", path: "/oauth/callback?code=x&state=" + url.QueryEscape(expiredState), status: 400, message: "install link is invalid"},
		{name: "callback with alg none state", method: "GET", path: "/oauth/callback?code=x&state=" + forgeSession(t, nil, jwt.SigningMethodNone, time.Now().Add(time.Hour)), status: 400, message: "install link is invalid"},
		{name: "callback with markup in error", method: "GET", path: "/oauth/callback?error=%3Cscript%3Ealert(1)%3C/script%3E&state=x", status: 400, message: "install link is invalid"},
		// App pages.
		{name: "app with alg none session", method: "GET", path: "/app/sources/" + src.ID, cookie: forgeSession(t, nil, jwt.SigningMethodNone, time.Now().Add(time.Hour)), status: 302},
		{name: "app with a session signed by another key", method: "POST", path: "/app/tokens", cookie: forgeSession(t, []byte("wrong-key-0123456789abcdefghijk"), jwt.SigningMethodHS256, time.Now().Add(time.Hour)), status: 401, message: "sign in"},
		{name: "app with an expired session", method: "POST", path: "/app/tokens", cookie: forgeSession(t, sessionKey, jwt.SigningMethodHS256, time.Now().Add(-time.Minute)), status: 401, message: "sign in"},
		{name: "app with a well-signed session that was never issued", method: "POST", path: "/app/tokens", cookie: forgeSession(t, sessionKey, jwt.SigningMethodHS256, time.Now().Add(time.Hour)), status: 401, message: "session has ended"},
		{name: "app with another tenant's id", method: "GET", path: "/app/sources/src_doesnotexist0000", session: true, status: 404, message: "no such source"},
		{name: "app path trick", method: "GET", path: "/app/sources/..%2f..%2fmetrics", session: true, status: 404},
		// API.
		{name: "API with garbage bearer token", method: "GET", path: "/api/v1/portals", header: map[string]string{"Authorization": "Bearer rh_garbage"}, status: 401, message: "unknown or revoked API token"},
		{name: "API with basic auth", method: "GET", path: "/api/v1/portals", header: map[string]string{"Authorization": "Basic YTpi"}, status: 401, message: "Bearer"},
		{name: "API with a non-numeric portal id", method: "GET", path: "/api/v1/portals/1001abc", session: true, status: 404, message: "no such portal"},
		{name: "API with another tenant's portal", method: "GET", path: "/api/v1/portals/2002", session: true, status: 404, message: "no such portal"},
		{name: "API mapping as form data", method: "PUT", path: "/api/v1/sources/" + src.ID + "/mapping", ctype: "application/x-www-form-urlencoded", body: "fields=x", session: true, status: 415, message: "application/json"},
		{name: "API mapping with unknown fields", method: "PUT", path: "/api/v1/sources/" + src.ID + "/mapping", ctype: "application/json", body: `{"fields":[],"evil":1}`, session: true, status: 400, message: "unknown field"},
		{name: "API mapping with markup as a property", method: "PUT", path: "/api/v1/sources/" + src.ID + "/mapping", ctype: "application/json", body: `{"fields":[{"from":"email","to":"email"},{"from":"x","to":"<img src=x>"}],"on_existing":"update"}`, session: true, status: 422, message: "not a HubSpot property name"},
		{name: "API oversized body", method: "PUT", path: "/api/v1/sources/" + src.ID + "/mapping", ctype: "application/json", body: `{"fields":[{"from":"` + strings.Repeat("x", 300<<10) + `","to":"email"}]}`, session: true, status: 413, message: "too large"},
		{name: "API negative limit", method: "GET", path: "/api/v1/sources/" + src.ID + "/activity?limit=-5", session: true, status: 400, message: "limit"},
		{name: "API page beyond int64", method: "GET", path: "/api/v1/portals?page=99999999999999999999999", session: true, status: 400, message: "page must be a whole number from 1"},
		{name: "API page at int64 max (overflowed the slice)", method: "GET", path: "/api/v1/portals?page=9223372036854775807", session: true, status: 400, message: "page must be a whole number from 1"},
		{name: "API page that overflowed times per_page", method: "GET", path: "/api/v1/portals?page=368934881474191034&per_page=50", session: true, status: 400, message: "page"},
		{name: "API last allowed page", method: "GET", path: "/api/v1/portals?page=1000000&per_page=200", session: true, status: 200, message: `"portals":[]`},
		{name: "API per_page at int64 max", method: "GET", path: "/api/v1/portals?per_page=9223372036854775807", session: true, status: 400, message: "per_page must be a whole number from 1 to 200"},
		{name: "API limit at int64 max", method: "GET", path: "/api/v1/sources/" + src.ID + "/activity?limit=9223372036854775807", session: true, status: 400, message: "limit must be a whole number from 1 to 500"},
		{name: "API before out of range", method: "GET", path: "/api/v1/sources/" + src.ID + "/activity?before=99999-12-31T00:00:00Z", session: true, status: 400, message: "before"},
		{name: "API before in year 0", method: "GET", path: "/api/v1/sources/" + src.ID + "/activity?before=0000-01-01T00:00:00Z", session: true, status: 200, message: `"events"`},
		{name: "app page that overflowed the slice", method: "GET", path: "/app/?page=368934881474191034", session: true, status: 200, message: "Your portals"},
		{name: "app page at int64 min", method: "GET", path: "/app/?page=-9223372036854775808", session: true, status: 200, message: "Your portals"},
		{name: "app activity limit beyond int64", method: "GET", path: "/app/sources/" + src.ID + "/activity?limit=99999999999999999999", session: true, status: 400, message: "limit"},
		{name: "API dead letters with a forged cursor", method: "GET", path: "/api/v1/sources/" + src.ID + "/dead-letters?after=9223372036854775807", session: true, status: 400, message: "after must be the next cursor"},
		{name: "API dead letters with a huge limit", method: "GET", path: "/api/v1/sources/" + src.ID + "/dead-letters?limit=9223372036854775807", session: true, status: 400, message: "limit must be a whole number from 1 to 500"},
		{name: "API dead letters after the end of time", method: "GET", path: "/api/v1/sources/" + src.ID + "/dead-letters?after=9223372036854775807:ev_z", session: true, status: 200, message: `"dead_letters":[]`},
		{name: "API portal id beyond int64", method: "GET", path: "/api/v1/portals/99999999999999999999", session: true, status: 404, message: "no such portal"},
		{name: "API header injection in a source name", method: "POST", path: "/api/v1/portals/1001/sources", ctype: "application/json", body: `{"name":"a\r\nX-Evil: 1"}`, session: true, status: 201},
	}
	require.GreaterOrEqual(t, len(cases), 50)
	client := &http.Client{CheckRedirect: apptest.NoRedirect}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := env.App.Queue().Depth(ctx, 1001)
			u := tc.path
			if !strings.HasPrefix(u, "http") {
				u = env.URL(u)
			}
			req, err := http.NewRequest(tc.method, u, bytes.NewReader([]byte(tc.body)))
			require.NoError(t, err)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			c := client
			if tc.session {
				c = &http.Client{Jar: b.Jar, CheckRedirect: apptest.NoRedirect}
				req.Header.Set("X-CSRF-Token", b.CSRF())
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "refhub_session", Value: tc.cookie})
				req.Header.Set("X-CSRF-Token", "whatever")
			}
			resp, err := c.Do(req)
			require.NoError(t, err)
			body := apptest.ReadAll(resp)
			assert.Equal(t, tc.status, resp.StatusCode, body)
			assert.Contains(t, body, tc.message)
			for _, bad := range []string{"goroutine ", "panic", "runtime/", ".go:"} {
				assert.NotContains(t, body, bad, "no stack trace or internals")
			}
			for k := range resp.Header {
				assert.NotEqual(t, "X-Injected", k)
				assert.NotEqual(t, "X-Evil", k)
			}
			assert.NotContains(t, body, "<script>alert(1)</script>", "markup is never reflected unescaped")
			after, _ := env.App.Queue().Depth(ctx, 1001)
			assert.Equal(t, int64(tc.queued), after-before, "queued events")
		})
	}
}
