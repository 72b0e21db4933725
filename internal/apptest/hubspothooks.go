package apptest

import (
	"context"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// ConfigureHubSpotWebhooks gives the simulator the app's webhooks component
// (hubspot-webhooks.json) with refhub's /hooks/hubspot as target.
func (e *Env) ConfigureHubSpotWebhooks() {
	e.T.Helper()
	def := refhub.Webhooks()
	var subs []hubspottest.WebhookSubscription
	for _, s := range def.All() {
		subs = append(subs, hubspottest.WebhookSubscription{SubscriptionType: s.SubscriptionType,
			ObjectType: s.ObjectType, PropertyName: s.PropertyName, Active: s.Active})
	}
	if err := e.Sim.ConfigureWebhooks(hubspottest.WebhookConfig{TargetURL: e.URL(def.TargetPath()),
		MaxConcurrentRequests: def.Config.Settings.MaxConcurrentRequests, Subscriptions: subs}); err != nil {
		e.T.Fatalf("apptest: webhooks: %v", err)
	}
}

// DeliverHubSpotWebhooks sends the simulator's due webhook events with d
// and returns the attempts.
func (e *Env) DeliverHubSpotWebhooks(d hubspottest.Delivery) []hubspottest.WebhookAttempt {
	e.T.Helper()
	attempts, err := e.Sim.DeliverWebhooksWith(context.Background(), d)
	if err != nil {
		e.T.Fatalf("apptest: deliver webhooks: %v", err)
	}
	return attempts
}
