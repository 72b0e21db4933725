// Package refhub holds the HubSpot app definition (hubspot-app.json) so the
// code requests exactly the scopes the app declares.
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
	} `json:"config"`
}

// App returns the parsed hubspot-app.json.
func App() AppDefinition {
	var d AppDefinition
	if err := json.Unmarshal(appJSON, &d); err != nil {
		panic(fmt.Sprintf("hubspot-app.json is not valid: %v", err)) // caught by the tests at build time
	}
	return d
}
