// Package tenants holds refhub's tenancy model: workspaces (an agency or a
// company), the HubSpot portals connected to them, the Referral Factory
// sources that send signups, and each source's mapping and campaign routes.
// Everything is stored in Redis; every key of one portal carries the portal's
// hash tag so the same code runs on Redis Cluster.
package tenants

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors a caller can act on.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Workspace is one customer of refhub: a company or an agency. It is created
// by the first install and owned by the HubSpot user who installed.
type Workspace struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	OwnerUserID int64     `json:"owner_user_id"`
	OwnerEmail  string    `json:"owner_email"`
	CreatedAt   time.Time `json:"created_at"`
}

// PortalStatus is the connection state of a HubSpot portal.
type PortalStatus string

// Portal statuses.
const (
	// Connected: refhub holds a working refresh token.
	Connected PortalStatus = "connected"
	// NeedsReconnect: HubSpot refused the token (uninstalled, revoked, scope
	// missing). Delivery is parked; events are kept until a new install.
	NeedsReconnect PortalStatus = "needs_reconnect"
	// Disconnected: an admin disconnected the portal in refhub. Delivery is
	// stopped and the configuration kept for a reconnect.
	Disconnected PortalStatus = "disconnected"
)

// Portal is a HubSpot account (hub) connected to a workspace.
type Portal struct {
	HubID            int64        `json:"hub_id"`
	WorkspaceID      string       `json:"workspace_id"`
	Domain           string       `json:"domain"`
	Status           PortalStatus `json:"status"`
	StatusReason     string       `json:"status_reason,omitempty"`
	InstalledByID    int64        `json:"installed_by_user_id"`
	InstalledByEmail string       `json:"installed_by_email"`
	Scopes           []string     `json:"scopes"`
	ConnectedAt      time.Time    `json:"connected_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
}

// Policy is what delivery does when a contact with the email already exists.
type Policy string

// Duplicate policies (README.md, "Duplicate policies").
const (
	// Update overwrites the mapped fields on existing contacts.
	Update Policy = "update"
	// Skip leaves existing contacts untouched.
	Skip Policy = "skip"
	// FillEmpty sets only fields that are empty on the existing contact.
	FillEmpty Policy = "fill_empty"
)

// Valid reports whether p is a known policy.
func (p Policy) Valid() bool { return p == Update || p == Skip || p == FillEmpty }

// Describe says in one line what the policy does to existing HubSpot data.
func (p Policy) Describe() string {
	switch p {
	case Update:
		return "Creates new contacts and overwrites the mapped fields on existing ones."
	case Skip:
		return "Creates new contacts and never changes an existing contact."
	case FillEmpty:
		return "Creates new contacts and, on existing ones, sets only fields that are empty in HubSpot."
	}
	return ""
}

// FieldMap maps one Referral Factory field path (e.g. "first_name" or
// "meta.Company") to a HubSpot contact property.
type FieldMap struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Mapping turns a Referral Factory payload into HubSpot contact properties.
type Mapping struct {
	Fields     []FieldMap        `json:"fields"`
	Defaults   map[string]string `json:"defaults"`
	OnExisting Policy            `json:"on_existing"`
}

// DefaultMapping is what a new source starts with.
func DefaultMapping() Mapping {
	return Mapping{
		Fields: []FieldMap{
			{From: "email", To: "email"},
			{From: "first_name", To: "firstname"},
		},
		Defaults:   map[string]string{},
		OnExisting: Update,
	}
}

// Route sends a source's events for one Referral Factory campaign to a
// portal, with its own mapping.
type Route struct {
	CampaignID string  `json:"campaign_id"`
	HubID      int64   `json:"hub_id"`
	Mapping    Mapping `json:"mapping"`
}

// DefaultRoute is the route key of a source's default portal and mapping.
const DefaultRoute = "default"

// Source is one Referral Factory account or campaign sending signups to a
// workspace through its webhook URL.
type Source struct {
	ID          string  `json:"id"`
	WorkspaceID string  `json:"workspace_id"`
	Name        string  `json:"name"`
	HubID       int64   `json:"hub_id"` // default portal
	Mapping     Mapping `json:"mapping"`
	Routes      []Route `json:"routes"`
	SecretName  string  `json:"secret_header,omitempty"` // optional shared-secret header name
	// LeadMapping is how leads (people invited) become contacts; nil until
	// one is saved, and until then leads use the referrer mapping.
	LeadMapping *Mapping `json:"lead_mapping,omitempty"`
	// LeadRule overrides how a signup is recognised as a lead; nil: the
	// built-in rule (app/leads).
	LeadRule *LeadRule `json:"lead_rule,omitempty"`
	// Deals says which signups also become deals, and how; nil: none do.
	Deals *DealSettings `json:"deals,omitempty"`
	// Send says whether referrers and leads are sent to HubSpot at all;
	// the zero value sends both.
	Send       Send      `json:"send,omitzero"`
	PastHubIDs []int64   `json:"past_hub_ids,omitempty"` // portals it sent to before a route change
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	// Token is the unguessable part of the webhook URL and Secret the
	// expected value of the SecretName header. Both are stored encrypted and
	// never serialized with the source.
	Token  string `json:"-"`
	Secret string `json:"-"`
	// RFToken is the customer's Referral Factory API token, for backfills
	// and reconciles; empty when none was given. Sealed like Token.
	// Referral Factory keeps one active token per account: generating a
	// new one there breaks this one.
	RFToken string `json:"-"`
}

// Route returns the portal and mapping for an event of campaignID, and the
// route key to record with the event.
func (s *Source) Route(campaignID string) (hubID int64, m Mapping, key string) {
	if campaignID != "" {
		for _, r := range s.Routes {
			if r.CampaignID == campaignID {
				return r.HubID, r.Mapping, "campaign:" + r.CampaignID
			}
		}
	}
	return s.HubID, s.Mapping, DefaultRoute
}

// MappingFor returns the mapping of a route key recorded with an event. A
// route deleted since falls back to the default mapping.
func (s *Source) MappingFor(key string) Mapping {
	for _, r := range s.Routes {
		if "campaign:"+r.CampaignID == key {
			return r.Mapping
		}
	}
	return s.Mapping
}

// MappingOf returns the mapping of an event of route key: the lead mapping
// for a lead when the source has one, else the route's mapping.
func (s *Source) MappingOf(key string, lead bool) Mapping {
	if lead && s.LeadMapping != nil {
		return *s.LeadMapping
	}
	return s.MappingFor(key)
}

// LeadRule says which signups are leads for a source whose Referral
// Factory payloads do not follow the built-in rule: a signup is a lead when
// the value at Field is one of Values (compared without case).
type LeadRule struct {
	Field  string   `json:"field"`
	Values []string `json:"values"`
}

// MaxLeadRuleValues bounds a lead rule.
const MaxLeadRuleValues = 20

// Validate checks a lead rule before it is saved.
func (r LeadRule) Validate() error {
	var probs []string
	switch {
	case strings.TrimSpace(r.Field) == "":
		probs = append(probs, "lead rule: name the Referral Factory field that tells a lead from a referrer")
	case len(r.Field) > MaxFromPath:
		probs = append(probs, fmt.Sprintf("lead rule: the field path is longer than %d bytes", MaxFromPath))
	}
	n := 0
	for _, v := range r.Values {
		if strings.TrimSpace(v) != "" {
			n++
		}
		if len(v) > 200 {
			probs = append(probs, "lead rule: a value is longer than 200 characters")
		}
	}
	if n == 0 {
		probs = append(probs, "lead rule: give at least one value that marks a lead")
	}
	if len(r.Values) > MaxLeadRuleValues {
		probs = append(probs, fmt.Sprintf("lead rule: at most %d values", MaxLeadRuleValues))
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// Portals returns every portal the source sends to.
func (s *Source) Portals() []int64 {
	out := []int64{s.HubID}
	for _, r := range s.Routes {
		if !containsHub(out, r.HubID) {
			out = append(out, r.HubID)
		}
	}
	return out
}

// AllPortals returns every portal the source sends or ever sent to (its
// activity and dead letters live with those portals).
func (s *Source) AllPortals() []int64 {
	out := s.Portals()
	for _, h := range s.PastHubIDs {
		if !containsHub(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func containsHub(hubs []int64, h int64) bool {
	for _, x := range hubs {
		if x == h {
			return true
		}
	}
	return false
}

// PortalTag is the Redis hash tag shared by every key of one portal.
func PortalTag(hubID int64) string { return "{p:" + strconv.FormatInt(hubID, 10) + "}" }

// PortalKey is a key in the portal's hash slot, e.g. "{p:42}:lane".
func PortalKey(hubID int64, suffix string) string { return PortalTag(hubID) + ":" + suffix }

func sourceKey(id string) string           { return "{s:" + id + "}" }
func workspaceKey(id string) string        { return "{w:" + id + "}" }
func userKey(userID int64) string          { return fmt.Sprintf("user:%d", userID) }
func hookKey(tokenHash string) string      { return "hook:" + tokenHash }
func workspacePortalsKey(id string) string { return workspaceKey(id) + ":portals" }
func workspaceSourcesKey(id string) string { return workspaceKey(id) + ":sources" }
