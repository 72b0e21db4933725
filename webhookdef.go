package refhub

import (
	_ "embed"
	"net/url"
)

//go:embed hubspot-webhooks.json
var webhooksJSON []byte

// WebhooksDefinition is the webhooks component of a HubSpot developer-platform
// project (webhooks-hsmeta.json shape, platform 2026.03): where HubSpot sends
// events and which events the app subscribes to. It is the one list of
// subscriptions: `refhub hubspot-project` writes it into the project, and
// the handler of HubSpot's webhooks reads it to know what it may receive.
//
// Property changes are subscribed in crmObjects (`object.propertyChange`
// with an objectType), not legacyCrmObjects (`contact.propertyChange`):
// HubSpot's project reference names crmObjects the standard array for every
// event in the new `object.*` format and keeps legacyCrmObjects for the
// classic types; the generic format covers contacts and deals alike with one
// event shape (objectTypeId in the payload: 0-1 contact, 0-3 deal), so the
// handler reads one shape whichever object changed. contact.privacyDeletion
// has no `object.*` form: HubSpot lists it only under hubEvents.
type WebhooksDefinition struct {
	UID    string         `json:"uid"`
	Type   string         `json:"type"`
	Config WebhooksConfig `json:"config"`
}

// WebhooksConfig is the component's config block.
type WebhooksConfig struct {
	Settings struct {
		TargetURL             string `json:"targetUrl"`
		MaxConcurrentRequests int    `json:"maxConcurrentRequests"`
	} `json:"settings"`
	Subscriptions struct {
		CRMObjects       []Subscription `json:"crmObjects,omitempty"`
		LegacyCRMObjects []Subscription `json:"legacyCrmObjects,omitempty"`
		HubEvents        []Subscription `json:"hubEvents,omitempty"`
	} `json:"subscriptions"`
}

// Subscription is one event subscription. ObjectType is set in crmObjects
// only; PropertyName in property-change subscriptions only.
type Subscription struct {
	SubscriptionType string `json:"subscriptionType"`
	ObjectType       string `json:"objectType,omitempty"`
	PropertyName     string `json:"propertyName,omitempty"`
	Active           bool   `json:"active"`
}

// Webhooks returns the parsed hubspot-webhooks.json.
func Webhooks() WebhooksDefinition {
	return mustParse[WebhooksDefinition]("hubspot-webhooks.json", webhooksJSON)
}

// TargetPath is the path of refhub's URL that receives HubSpot's webhooks
// ("/hooks/hubspot"): the reference copy's target URL without its example
// host, so the route and the generated project cannot drift apart.
func (d WebhooksDefinition) TargetPath() string {
	u, err := url.Parse(d.Config.Settings.TargetURL)
	if err != nil {
		return ""
	}
	return u.Path
}

// All returns every subscription, whichever list it is in.
func (d WebhooksDefinition) All() []Subscription {
	s := d.Config.Subscriptions
	out := append([]Subscription(nil), s.CRMObjects...)
	out = append(out, s.LegacyCRMObjects...)
	return append(out, s.HubEvents...)
}
