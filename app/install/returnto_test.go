package install_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/internal/apptest"
)

// browserRead resolves a Location header against base the way a browser's
// URL parser (the WHATWG URL standard) reads it: leading and trailing C0
// controls and spaces are dropped, tabs and newlines anywhere are dropped,
// and for http(s) a backslash is a slash. Go's parser does none of this,
// which is how "/<TAB>/evil.example" passed a check that a browser then
// read as "//evil.example".
func browserRead(t *testing.T, base, location string) *url.URL {
	t.Helper()
	loc := strings.TrimFunc(location, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	b, err := url.Parse(base)
	require.NoError(t, err)
	ref, err := url.Parse(loc)
	if err != nil {
		// A browser reads what Go refuses; anything refhub answered must
		// be readable, so this is a failure of the answer.
		t.Fatalf("Location %q does not parse: %v", location, err)
	}
	return b.ResolveReference(ref)
}

var signinLink = regexp.MustCompile(`id="signin" href="([^"]*)"`)

// TestReturnToStaysInTheApp: whatever return_to an install or a sign-in
// carries, the browser lands on a page of the settings app on refhub's
// own host, read as a browser reads the Location header. Genuine app
// paths are kept.
func TestReturnToStaysInTheApp(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	tests := []struct {
		name, returnTo, want string // want: the path a browser lands on
	}{
		{"app page", "/app/portals/1001", "/app/portals/1001"},
		{"app page with query", "/app/?page=2&q=acme", "/app/?page=2&q=acme"},
		{"query holding a URL", "/app/sources/x/activity?next=//evil.example", "/app/sources/x/activity?next=//evil.example"},
		{"tab then slash (the review's case)", "/\t/evil.example/x", "/app/"},
		{"tab after /app/", "/app/\t/evil.example", "/app/"},
		{"newline", "/\n/evil.example", "/app/"},
		{"carriage return", "/\r/evil.example", "/app/"},
		{"protocol-relative", "//evil.example/app/", "/app/"},
		{"backslash host", "/\\evil.example", "/app/"},
		{"two backslashes", "\\\\evil.example", "/app/"},
		{"backslash after /app/", "/app/\\\\evil.example", "/app/"},
		{"absolute URL", "https://evil.example/app/", "/app/"},
		{"absolute URL in capitals", "HTTPS://evil.example/app/", "/app/"},
		{"scheme without slashes", "http:evil.example", "/app/"},
		{"javascript", "javascript:alert(1)", "/app/"},
		{"leading space", " //evil.example", "/app/"},
		{"space inside", "/app/ /evil.example", "/app/"},
		{"encoded slashes", "/app/%2f%2fevil.example", "/app/"},
		{"encoded backslash", "/app/%5cevil.example", "/app/"},
		{"encoded tab", "/app/%09/evil.example", "/app/"},
		{"dot segments", "/app/../..//evil.example", "/app/"},
		{"encoded dot segments", "/app/%2e%2e/%2e%2e//evil.example", "/app/"},
		{"empty segment", "/app//evil.example", "/app/"},
		{"user info", "//user@evil.example/app/", "/app/"},
		{"NUL", "/app/\x00", "/app/"},
		{"not in the app", "/oauth/install", "/app/"},
		{"the app without a slash", "/app", "/app/"},
		{"non-ASCII", "/app/\u2028/x", "/app/"},
		{"empty", "", "/app/"},
	}
	require.GreaterOrEqual(t, len(tests), 15)
	for _, via := range []string{"/oauth/install", "/app/signin"} {
		for _, tc := range tests {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				start := via + "?return_to=" + url.QueryEscape(tc.returnTo)
				if via == "/app/signin" {
					start = installLinkOfSignIn(t, env, start)
				}
				location := callbackLocation(t, env, start)
				got := browserRead(t, env.URL("/oauth/callback"), location)
				assert.Equal(t, env.URL(""), got.Scheme+"://"+got.Host, "stays on refhub (Location %q)", location)
				assert.Equal(t, tc.want, got.RequestURI(), "Location %q", location)
			})
		}
	}
}

// installLinkOfSignIn opens the sign-in page and returns its "Sign in with
// HubSpot" link.
func installLinkOfSignIn(t *testing.T, env *apptest.Env, signin string) string {
	t.Helper()
	resp, err := http.Get(env.URL(signin))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := signinLink.FindStringSubmatch(string(body))
	require.NotNil(t, m, "the page has the sign-in link")
	return html.UnescapeString(m[1])
}

// callbackLocation runs an install from path (approved in the simulator)
// and returns where the OAuth callback sends the browser.
func callbackLocation(t *testing.T, env *apptest.Env, path string) string {
	t.Helper()
	b := env.NewBrowser()
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if via[len(via)-1].URL.Path == "/oauth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	env.Sim.AutoApprove(1001, 501)
	defer env.Sim.AutoApprove(0, 0)
	resp, err := b.Get(env.URL(path))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/oauth/callback", resp.Request.URL.Path)
	return resp.Header.Get("Location")
}
