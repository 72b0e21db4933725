package refhub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	refhub "github.com/refhub/refhub"
)

// TestAppDefinitionShape: hubspot-app.json is a marketplace OAuth app in the
// developer-platform (app-hsmeta.json) shape.
func TestAppDefinitionShape(t *testing.T) {
	d := refhub.App()
	assert.NotEmpty(t, d.UID)
	assert.Equal(t, "app", d.Type)
	assert.Equal(t, "marketplace", d.Config.Distribution)
	assert.Equal(t, "oauth", d.Config.Auth.Type)
	assert.NotEmpty(t, d.Config.Auth.RedirectURLs)
	for _, u := range d.Config.Auth.RedirectURLs {
		assert.Regexp(t, `^(https://|http://localhost[:/])`, u, "redirect URLs are https, or localhost for development")
	}
	assert.Contains(t, d.Config.Auth.RequiredScopes, "oauth")
}
