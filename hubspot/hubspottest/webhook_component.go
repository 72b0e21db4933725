package hubspottest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// componentSubscription is one subscription entry of a webhooks component.
// Generic CRM subscriptions name the object in objectType (objectName in
// older templates).
type componentSubscription struct {
	SubscriptionType string `json:"subscriptionType"`
	ObjectType       string `json:"objectType"`
	ObjectName       string `json:"objectName"`
	PropertyName     string `json:"propertyName"`
	Active           bool   `json:"active"`
}

// ParseWebhooksComponent reads a project's webhooks component
// (src/app/webhooks/*-hsmeta.json: uid, type "webhooks", config.settings
// and config.subscriptions.crmObjects / legacyCrmObjects / hubEvents) into
// a WebhookConfig for ConfigureWebhooks, so tests deliver exactly what the
// app declares. Unknown fields are refused, as a typo in the file would
// silently drop a subscription.
func ParseWebhooksComponent(raw []byte) (WebhookConfig, error) {
	var c struct {
		UID    string `json:"uid"`
		Type   string `json:"type"`
		Config struct {
			Settings struct {
				TargetURL             string `json:"targetUrl"`
				MaxConcurrentRequests int    `json:"maxConcurrentRequests"`
			} `json:"settings"`
			Subscriptions struct {
				CRMObjects       []componentSubscription `json:"crmObjects"`
				LegacyCRMObjects []componentSubscription `json:"legacyCrmObjects"`
				HubEvents        []componentSubscription `json:"hubEvents"`
			} `json:"subscriptions"`
		} `json:"config"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return WebhookConfig{}, fmt.Errorf("hubspottest: webhooks component: %w", err)
	}
	if c.Type != "webhooks" || c.UID == "" {
		return WebhookConfig{}, fmt.Errorf("hubspottest: webhooks component: need a uid and type \"webhooks\", got uid %q type %q", c.UID, c.Type)
	}
	cfg := WebhookConfig{TargetURL: c.Config.Settings.TargetURL, MaxConcurrentRequests: c.Config.Settings.MaxConcurrentRequests}
	subs := c.Config.Subscriptions
	for _, group := range [][]componentSubscription{subs.CRMObjects, subs.LegacyCRMObjects, subs.HubEvents} {
		for _, s := range group {
			obj := s.ObjectType
			if obj == "" {
				obj = s.ObjectName
			}
			cfg.Subscriptions = append(cfg.Subscriptions, WebhookSubscription{SubscriptionType: s.SubscriptionType,
				ObjectType: obj, PropertyName: s.PropertyName, Active: s.Active})
		}
	}
	for i, sub := range cfg.Subscriptions {
		if err := checkSubscription(sub); err != nil {
			return WebhookConfig{}, fmt.Errorf("hubspottest: webhooks component: subscription %d: %w", i, err)
		}
	}
	return cfg, nil
}
