package workspace

import (
	"fmt"
	"strings"
	"time"

	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// PortalView is a portal as the API and the pages show it.
type PortalView struct {
	HubID        int64                `json:"hub_id"`
	Domain       string               `json:"domain"`
	Status       tenants.PortalStatus `json:"status"`
	StatusReason string               `json:"status_reason,omitempty"`
	InstalledBy  string               `json:"installed_by"`
	ConnectedAt  time.Time            `json:"connected_at"`
	// Deals is "ready", or "reconnect to enable deals" for a portal
	// installed before refhub wrote deals (its contacts keep flowing).
	Deals string `json:"deals"`
}

// ViewPortal returns the view of p.
func ViewPortal(p tenants.Portal) PortalView {
	return PortalView{HubID: p.HubID, Domain: p.Domain, Status: p.Status, StatusReason: p.StatusReason,
		InstalledBy: p.InstalledByEmail, ConnectedAt: p.ConnectedAt, Deals: DealsReadiness(p)}
}

// DealsReadiness says whether the portal's install granted what deals need.
func DealsReadiness(p tenants.Portal) string {
	if len(p.MissingDealScopes()) > 0 {
		return "reconnect to enable deals"
	}
	return "ready"
}

// SourceView is a source as the API and the pages show it: its secrets
// never, but whether it has one and in which header.
type SourceView struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	HubID        int64           `json:"hub_id"`
	WebhookURL   string          `json:"webhook_url"`
	SecretHeader string          `json:"secret_header,omitempty"`
	HasSecret    bool            `json:"has_secret"`
	Mapping      tenants.Mapping `json:"mapping"`
	Routes       []tenants.Route `json:"routes"`
	// LeadMapping is null until one is saved: leads use Mapping until then.
	LeadMapping *tenants.Mapping `json:"lead_mapping"`
	// LeadRule is null for the built-in rule (README.md, "Leads").
	LeadRule *tenants.LeadRule `json:"lead_rule"`
	// Deals is null while the source creates no deals (README.md, "Deals").
	Deals *tenants.DealSettings `json:"deals"`
	// Send says whether referrers and leads are sent to HubSpot at all
	// ("contacts") or only stored and shown ("nothing").
	Send      tenants.Send `json:"send"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// View returns the view of src.
func (o *Sources) View(src tenants.Source) SourceView {
	v := SourceView{ID: src.ID, Name: src.Name, HubID: src.HubID, WebhookURL: o.WebhookURL(src),
		HasSecret: src.Secret != "", Mapping: src.Mapping, Routes: src.Routes, LeadMapping: src.LeadMapping, LeadRule: src.LeadRule, Deals: src.Deals, Send: src.Send.Normalized(), CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt}
	if v.HasSecret {
		v.SecretHeader = src.SecretHeader()
	}
	if v.Mapping.Defaults == nil {
		v.Mapping.Defaults = map[string]string{}
	}
	return v
}

// WebhookURL is the URL Referral Factory posts a source's signups to.
func (o *Sources) WebhookURL(src tenants.Source) string { return ingest.WebhookURL(o.d.PublicURL, src) }

// EventView is an event as the API and the pages show it: payload
// redacted, with a link to the contact in HubSpot once delivered.
type EventView struct {
	queue.Event
	Payload    []payload.Field `json:"payload"`
	ContactURL string          `json:"contact_url,omitempty"`
}

// View returns the view of ev.
func (o *Events) View(ev queue.Event) EventView {
	return EventView{Event: ev, Payload: RedactFields(ev.Payload), ContactURL: o.contactURL(ev.HubID, ev.ContactID)}
}

// Views returns the views of evs.
func (o *Events) Views(evs []queue.Event) []EventView {
	out := make([]EventView, len(evs))
	for i, ev := range evs {
		out[i] = o.View(ev)
	}
	return out
}

// contactURL links to a contact in HubSpot.
func (o *Events) contactURL(hub int64, contactID string) string {
	if contactID == "" {
		return ""
	}
	return fmt.Sprintf("%s/contacts/%d/record/0-1/%s", strings.TrimRight(o.d.AppBase, "/"), hub, contactID)
}
