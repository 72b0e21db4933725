package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHubSpotProjectCommand: the command writes the project, tells the one
// step left, refuses to clobber a folder, and exits 2 on a bad URL with a
// message naming the flag.
func TestHubSpotProjectCommand(t *testing.T) {
	t.Setenv("REFHUB_PUBLIC_URL", "")
	dir := filepath.Join(t.TempDir(), "project")
	args := []string{"hubspot-project", "--public-url", "https://refhub.agency.example", "--out", dir,
		"--support-email", "help@agency.example"}
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), args, &out, &errOut), errOut.String())
	for _, f := range []string{"hsproject.json", "src/app/app-hsmeta.json", "src/app/webhooks/webhooks-hsmeta.json"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.Contains(t, out.String(), "https://refhub.agency.example/oauth/callback")
	assert.Contains(t, out.String(), "https://refhub.agency.example/hooks/hubspot")
	assert.Contains(t, out.String(), "hs project upload")
	assert.Contains(t, out.String(), "REFHUB_PUBLIC_URL=https://refhub.agency.example")
	assert.NotContains(t, out.String(), "no --support-email")

	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"hubspot-project", "--public-url", "https://refhub.agency.example",
		"--out", t.TempDir()}, &out, &errOut), "the public contract: --public-url and --out are all it takes")
	assert.Contains(t, out.String(), "no --support-email")

	out.Reset()
	errOut.Reset()
	assert.Equal(t, 1, run(context.Background(), args, &out, &errOut), "a second run does not overwrite")
	assert.Contains(t, errOut.String(), "not empty")
	assert.Contains(t, errOut.String(), "--force")
	assert.Equal(t, 0, run(context.Background(), append(args, "--force"), &out, &errOut), errOut.String())

	errOut.Reset()
	bad := []string{"hubspot-project", "--public-url", "http://refhub.agency.example", "--out", t.TempDir()}
	assert.Equal(t, 2, run(context.Background(), bad, &out, &errOut))
	assert.Contains(t, errOut.String(), "--public-url")
	assert.Contains(t, errOut.String(), "https")

	errOut.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"hubspot-project", "extra"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unexpected argument "extra"`)
}

// TestHubSpotProjectDefaultsToTheConfiguredURL: with REFHUB_PUBLIC_URL set,
// the flag may be left out, and a flag that disagrees with it is pointed out.
func TestHubSpotProjectDefaultsToTheConfiguredURL(t *testing.T) {
	t.Setenv("REFHUB_PUBLIC_URL", "https://refhub.agency.example")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"hubspot-project", "--out", dir,
		"--support-email", "help@agency.example"}, &out, &errOut), errOut.String())
	raw, err := os.ReadFile(filepath.Join(dir, "src/app/app-hsmeta.json"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"https://refhub.agency.example/oauth/callback"`)
	assert.NotContains(t, out.String(), "Warning")

	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"hubspot-project", "--out", t.TempDir(),
		"--public-url", "https://other.agency.example", "--support-email", "help@agency.example"}, &out, &errOut))
	assert.Contains(t, out.String(), "Warning: REFHUB_PUBLIC_URL here is https://refhub.agency.example")
}
