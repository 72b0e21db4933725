// Package refhub holds the reference copies of refhub's HubSpot project
// components: the app (hubspot-app.json), so the code requests exactly the
// scopes the app declares, and the webhooks (hubspot-webhooks.json), so the
// subscriptions HubSpot is told about and the code that handles them read
// one list. `refhub hubspot-project` builds a ready project from both.
package refhub

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed hubspot-app.json
var appJSON []byte

// AppDefinition is the app component of a HubSpot developer-platform project
// (app-hsmeta.json shape).
type AppDefinition struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	Config struct {
		Name         string `json:"name"`
		Description  string `json:"description"`
		Distribution string `json:"distribution"`
		Auth         struct {
			Type                        string   `json:"type"`
			RedirectURLs                []string `json:"redirectUrls"`
			RequiredScopes              []string `json:"requiredScopes"`
			OptionalScopes              []string `json:"optionalScopes"`
			ConditionallyRequiredScopes []string `json:"conditionallyRequiredScopes"`
		} `json:"auth"`
		PermittedURLs struct {
			Fetch  []string `json:"fetch"`
			Iframe []string `json:"iframe"`
			Img    []string `json:"img"`
		} `json:"permittedUrls"`
		Support *Support `json:"support,omitempty"`
	} `json:"config"`
}

// Support is the app's support contact, shown to installing users and on
// the marketplace listing.
type Support struct {
	SupportEmail     string `json:"supportEmail,omitempty"`
	DocumentationURL string `json:"documentationUrl,omitempty"`
	SupportURL       string `json:"supportUrl,omitempty"`
	SupportPhone     string `json:"supportPhone,omitempty"`
}

// App returns the parsed hubspot-app.json.
func App() AppDefinition {
	return mustParse[AppDefinition]("hubspot-app.json", appJSON)
}

// mustParse reads an embedded reference copy; a broken one fails every test
// that touches it, so it never ships.
func mustParse[T any](name string, raw []byte) T {
	var d T
	if err := json.Unmarshal(raw, &d); err != nil {
		panic(fmt.Sprintf("%s is not valid: %v", name, err))
	}
	return d
}
