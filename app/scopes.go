package app

import refhub "github.com/refhub/refhub"

// Version is refhub's version, set at build time with
// -ldflags "-X github.com/refhub/refhub/app.Version=v1.2.3".
var Version = "dev"

// Scopes are the OAuth scopes the install requests: exactly the required
// scopes declared in hubspot-app.json.
func Scopes() []string {
	return append([]string(nil), refhub.App().Config.Auth.RequiredScopes...)
}
