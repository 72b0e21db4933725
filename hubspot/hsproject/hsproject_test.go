package hsproject_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/hubspot/hsproject"
	"github.com/refhub/refhub/internal/apptest"
	"github.com/refhub/refhub/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var support = refhub.Support{SupportEmail: "help@agency.example", SupportURL: "https://agency.example/help",
	DocumentationURL: "https://agency.example/docs/refhub", SupportPhone: "+1 800 555 0100"}

// projectFile is hsproject.json as HubSpot reads it.
type projectFile struct {
	Name            string `json:"name"`
	SrcDir          string `json:"srcDir"`
	PlatformVersion string `json:"platformVersion"`
}

// build builds and writes a project and reads its files back, refusing any
// field the types do not know.
func build(t *testing.T, o hsproject.Options) (projectFile, refhub.AppDefinition, refhub.WebhooksDefinition) {
	t.Helper()
	p, err := hsproject.Build(o)
	require.NoError(t, err)
	dir := t.TempDir()
	others, err := p.Write(dir, false)
	require.NoError(t, err)
	assert.Empty(t, others)
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return err
	}))
	sort.Strings(paths)
	require.Equal(t, []string{"hsproject.json", "src/app/app-hsmeta.json", "src/app/webhooks/webhooks-hsmeta.json"}, paths)
	var proj projectFile
	var app refhub.AppDefinition
	var hooks refhub.WebhooksDefinition
	for path, v := range map[string]any{"hsproject.json": &proj, "src/app/app-hsmeta.json": &app,
		"src/app/webhooks/webhooks-hsmeta.json": &hooks} {
		raw, err := os.ReadFile(filepath.Join(dir, path))
		require.NoError(t, err)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(v), path)
		assert.True(t, strings.HasSuffix(string(raw), "}\n"), "%s ends in a newline", path)
	}
	return proj, app, hooks
}

// TestProjectAgreesWithTheReferenceCopies: the generated project is the
// reference app and webhooks components with this installation's URLs and
// support contact, on platform 2026.03.
func TestProjectAgreesWithTheReferenceCopies(t *testing.T) {
	proj, app, hooks := build(t, hsproject.Options{PublicURL: "https://refhub.agency.example", Support: support})
	assert.Equal(t, projectFile{Name: "refhub", SrcDir: "src", PlatformVersion: "2026.03"}, proj)

	ref := refhub.App()
	assert.Equal(t, ref.UID, app.UID)
	assert.Equal(t, "app", app.Type)
	assert.Equal(t, "marketplace", app.Config.Distribution)
	assert.Equal(t, "oauth", app.Config.Auth.Type)
	assert.Equal(t, []string{"https://refhub.agency.example/oauth/callback"}, app.Config.Auth.RedirectURLs,
		"only this installation's callback: no example or localhost URL")
	assert.Equal(t, ref.Config.Auth.RequiredScopes, app.Config.Auth.RequiredScopes)
	assert.Equal(t, ref.Config.Auth.OptionalScopes, app.Config.Auth.OptionalScopes)
	assert.Equal(t, ref.Config.Auth.ConditionallyRequiredScopes, app.Config.Auth.ConditionallyRequiredScopes)
	assert.Equal(t, ref.Config.Name, app.Config.Name)
	assert.Equal(t, ref.Config.Description, app.Config.Description)
	require.NotNil(t, app.Config.Support)
	assert.Equal(t, support, *app.Config.Support, "the support contact comes from the flags, never the example")

	refHooks := refhub.Webhooks()
	assert.Equal(t, refHooks.UID, hooks.UID)
	assert.Equal(t, "webhooks", hooks.Type)
	assert.Equal(t, "https://refhub.agency.example/hooks/hubspot", hooks.Config.Settings.TargetURL)
	assert.Equal(t, refHooks.Config.Subscriptions, hooks.Config.Subscriptions, "the subscriptions of hubspot-webhooks.json")
	assert.Equal(t, refHooks.Config.Settings.MaxConcurrentRequests, hooks.Config.Settings.MaxConcurrentRequests)

	proj, _, _ = build(t, hsproject.Options{PublicURL: "https://staging.agency.example/", Name: "refhub-staging", Support: support})
	assert.Equal(t, "refhub-staging", proj.Name)
}

// TestProjectMatchesWhatInstallRequests: against a running refhub, the
// install asks HubSpot for exactly the project's scopes and redirects to
// the project's one redirect URL; a mismatch would fail every install.
func TestProjectMatchesWhatInstallRequests(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	_, app, hooks := build(t, hsproject.Options{PublicURL: env.Server.URL, Dev: true, Support: support})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(env.URL("/oauth/install"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	q := loc.Query()
	assert.ElementsMatch(t, app.Config.Auth.RequiredScopes, strings.Fields(q.Get("scope")))
	assert.ElementsMatch(t, app.Config.Auth.OptionalScopes, strings.Fields(q.Get("optional_scope")))
	assert.Equal(t, app.Config.Auth.RedirectURLs, []string{q.Get("redirect_uri")})
	assert.Equal(t, env.URL("/hooks/hubspot"), hooks.Config.Settings.TargetURL)
}

// TestPublicURLRules: only scheme and host, https unless --dev on
// localhost; each refusal says what is wrong.
func TestPublicURLRules(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		dev       bool
		want      string // normalized URL, or "" when refused
		problem   string
	}{
		{"https", "https://refhub.example.com", false, "https://refhub.example.com", ""},
		{"trailing slash", "https://refhub.example.com/", false, "https://refhub.example.com", ""},
		{"port", "https://refhub.example.com:8443", false, "https://refhub.example.com:8443", ""},
		{"upper-case scheme", "HTTPS://refhub.example.com", false, "https://refhub.example.com", ""},
		{"spaces around", "  https://refhub.example.com  ", false, "https://refhub.example.com", ""},
		{"http", "http://refhub.example.com", false, "", "HubSpot redirects installs and sends webhooks only to https"},
		{"http localhost without --dev", "http://localhost:8080", false, "", "use --dev"},
		{"http localhost with --dev", "http://localhost:8080", true, "http://localhost:8080", ""},
		{"http loopback with --dev", "http://127.0.0.1:8080", true, "http://127.0.0.1:8080", ""},
		{"http elsewhere with --dev", "http://refhub.example.com", true, "", "only for localhost"},
		{"https with --dev", "https://refhub.example.com", true, "https://refhub.example.com", ""},
		{"empty", "", false, "", "required"},
		{"no scheme", "refhub.example.com", false, "", "must start with https://"},
		{"other scheme", "ftp://refhub.example.com", false, "", "must start with https://"},
		{"no host", "https:///oauth", false, "", "has no host"},
		{"port only", "https://:443", false, "", "has no host"},
		{"path", "https://example.com/refhub", false, "", "only scheme and host"},
		{"query", "https://refhub.example.com?x=1", false, "", "only scheme and host"},
		{"empty query", "https://refhub.example.com?", false, "", "only scheme and host"},
		{"fragment", "https://refhub.example.com#top", false, "", "only scheme and host"},
		{"empty fragment", "https://refhub.example.com#", false, "", "only scheme and host"},
		{"credentials", "https://user:pw@refhub.example.com", false, "", "user name or password"},
		{"unparsable", "https://refhub example.com", false, "", "not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hsproject.PublicURL(tc.raw, tc.dev)
			if tc.problem == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "--public-url")
			assert.Contains(t, err.Error(), tc.problem)
		})
	}
}

// TestBuildRefusesBadOptions: every problem is reported at once, each
// naming its flag, and nothing is built.
func TestBuildRefusesBadOptions(t *testing.T) {
	_, err := hsproject.Build(hsproject.Options{PublicURL: "http://refhub.example.com", Name: "a/b",
		Support: refhub.Support{SupportURL: "http://agency.example/help", DocumentationURL: "docs", SupportPhone: "call us"}})
	require.Error(t, err)
	for _, want := range []string{"--public-url", "--support-url", "--documentation-url", "--support-phone", "--name"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, email := range []string{"help", "Help <help@agency.example>", "help@agency.example, x@y.example"} {
		_, err = hsproject.Build(hsproject.Options{PublicURL: "https://refhub.example.com", Support: refhub.Support{SupportEmail: email}})
		assert.ErrorContains(t, err, "--support-email", email)
	}
}

// TestSupportContactIsOptional: without support flags the project has no
// support contact at all: never the reference copy's example one.
func TestSupportContactIsOptional(t *testing.T) {
	_, app, _ := build(t, hsproject.Options{PublicURL: "https://refhub.agency.example"})
	assert.Nil(t, app.Config.Support)
	_, app, _ = build(t, hsproject.Options{PublicURL: "https://refhub.agency.example", Support: refhub.Support{SupportEmail: "help@agency.example"}})
	require.NotNil(t, app.Config.Support)
	assert.Equal(t, refhub.Support{SupportEmail: "help@agency.example"}, *app.Config.Support)
}

// TestWriteKeepsWhatItDoesNotOwn: an existing project folder is refused
// unless overwriting is asked for; then the project's files are replaced
// and everything else stays, and a second webhooks component is pointed out.
func TestWriteKeepsWhatItDoesNotOwn(t *testing.T) {
	dir := t.TempDir()
	old, err := hsproject.Build(hsproject.Options{PublicURL: "https://old.example.com", Support: support})
	require.NoError(t, err)
	_, err = old.Write(dir, false)
	require.NoError(t, err, "an empty folder that exists is fine")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("ours"), 0o644))
	stray := filepath.Join(dir, "src", "app", "webhooks", "old-webhooks-hsmeta.json")
	require.NoError(t, os.WriteFile(stray, []byte("{}"), 0o644))

	p, err := hsproject.Build(hsproject.Options{PublicURL: "https://new.example.com", Support: support})
	require.NoError(t, err)
	_, err = p.Write(dir, false)
	require.ErrorIs(t, err, hsproject.ErrNotEmpty)
	assert.Contains(t, err.Error(), "--force")
	raw, _ := os.ReadFile(filepath.Join(dir, hsproject.WebhooksFile))
	assert.Contains(t, string(raw), "https://old.example.com/hooks/hubspot", "nothing was touched")

	others, err := p.Write(dir, true)
	require.NoError(t, err)
	assert.Equal(t, []string{"src/app/webhooks/old-webhooks-hsmeta.json"}, others)
	raw, _ = os.ReadFile(filepath.Join(dir, hsproject.WebhooksFile))
	assert.Contains(t, string(raw), "https://new.example.com/hooks/hubspot")
	mine, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	assert.Equal(t, "ours", string(mine))
	leftovers, _ := filepath.Glob(filepath.Join(dir, "src", "app", ".hsproject-*"))
	assert.Empty(t, leftovers, "no temporary file is left behind")

	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = p.Write(file, true)
	assert.Error(t, err, "a file where the folder should be")
}
