package refhub_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	refhub "github.com/refhub/refhub"
)

// uidPattern is what HubSpot's project parser accepts as a component uid.
const uidPattern = `^[A-Za-z0-9_.-]{1,64}$`

// TestAppDefinitionShape: hubspot-app.json is a marketplace OAuth app in the
// developer-platform (app-hsmeta.json) shape.
func TestAppDefinitionShape(t *testing.T) {
	d := refhub.App()
	assert.Regexp(t, uidPattern, d.UID)
	assert.Equal(t, "app", d.Type)
	assert.Equal(t, "marketplace", d.Config.Distribution)
	assert.Equal(t, "oauth", d.Config.Auth.Type)
	assert.NotEmpty(t, d.Config.Auth.RedirectURLs)
	for _, u := range d.Config.Auth.RedirectURLs {
		assert.Regexp(t, `^(https://|http://localhost[:/])`, u, "redirect URLs are https, or localhost for development")
	}
	assert.Contains(t, d.Config.Auth.RequiredScopes, "oauth")
}

// TestWebhooksDefinitionHoldsWhatTheFeaturesNeed: hubspot-webhooks.json is a
// webhooks component whose subscriptions are the ones the privacy and
// lifecycle features act on, each in the list HubSpot keeps its kind in.
func TestWebhooksDefinitionHoldsWhatTheFeaturesNeed(t *testing.T) {
	d := refhub.Webhooks()
	assert.Regexp(t, uidPattern, d.UID)
	assert.NotEqual(t, refhub.App().UID, d.UID, "uids are unique within a project")
	assert.Equal(t, "webhooks", d.Type)
	assert.Equal(t, "/hooks/hubspot", d.TargetPath(), "the public contract of the webhook route")
	assert.True(t, strings.HasPrefix(d.Config.Settings.TargetURL, "https://"), "HubSpot calls an https URL")
	assert.Positive(t, d.Config.Settings.MaxConcurrentRequests)

	subs := d.Config.Subscriptions
	for _, s := range subs.CRMObjects {
		assert.True(t, strings.HasPrefix(s.SubscriptionType, "object."), "crmObjects holds the object.* format: %+v", s)
		assert.NotEmpty(t, s.ObjectType, "a crmObjects subscription names its object: %+v", s)
	}
	for _, s := range append(subs.LegacyCRMObjects, subs.HubEvents...) {
		assert.Empty(t, s.ObjectType, "classic subscription types carry the object in their name: %+v", s)
	}
	for _, s := range d.All() {
		assert.True(t, s.Active, "an inactive subscription delivers nothing: %+v", s)
		assert.Equal(t, strings.HasSuffix(s.SubscriptionType, "propertyChange"), s.PropertyName != "",
			"property changes, and only they, name the property: %+v", s)
	}
	assert.Contains(t, subs.HubEvents, refhub.Subscription{SubscriptionType: "contact.privacyDeletion", Active: true},
		"privacy deletions (GDPR) are a hub event")
	assert.Contains(t, subs.CRMObjects, refhub.Subscription{SubscriptionType: "object.propertyChange",
		ObjectType: "contact", PropertyName: "lifecyclestage", Active: true}, "qualification on a contact's lifecycle stage")
	assert.Contains(t, subs.CRMObjects, refhub.Subscription{SubscriptionType: "object.propertyChange",
		ObjectType: "deal", PropertyName: "dealstage", Active: true}, "qualification on a deal's stage")
}

// TestReferenceCopiesAreFullyRead: every field of the reference copies is
// one the Go types know, so a project written from the types loses nothing
// that someone adds to the JSON files.
func TestReferenceCopiesAreFullyRead(t *testing.T) {
	for file, parsed := range map[string]any{"hubspot-app.json": refhub.App(), "hubspot-webhooks.json": refhub.Webhooks()} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var want, got any
			require.NoError(t, json.Unmarshal(raw, &want))
			out, err := json.Marshal(parsed)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(out, &got))
			assert.Equal(t, want, got)
		})
	}
}
