// Package queue is refhub's durable work queue in Redis: one lane (stream)
// of events per HubSpot portal, the event records and per-source activity
// and dead-letter indexes beside it in the portal's hash slot, a global
// ready-set that leases lanes to workers, and the per-portal rate limiter
// shared by every replica.
package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/refhub/refhub/app/payload"
)

// Status is where an event stands.
type Status string

// Event statuses.
const (
	Queued    Status = "queued"    // accepted, waiting or retrying
	Delivered Status = "delivered" // in HubSpot (created, updated, or left alone by policy)
	Failed    Status = "failed"    // dead-lettered: needs a fix, then a replay
	Rejected  Status = "rejected"  // not accepted at the webhook (4xx); never queued
	// NotSent is a signup of a kind its source sends nothing to HubSpot for
	// (tenants.Send): stored and shown, settled without a HubSpot call.
	NotSent Status = "not_sent"
)

// Kind is what an activity record is about.
type Kind string

// KindQualification is a referral qualified at Referral Factory.
const KindQualification Kind = "qualification"

// Outcome says what delivery did in HubSpot.
type Outcome string

// Delivery outcomes.
const (
	Created    Outcome = "created"
	Updated    Outcome = "updated"
	Skipped    Outcome = "skipped"    // contact exists; policy skip left it untouched
	Filled     Outcome = "filled"     // contact exists; empty fields were filled
	Unchanged  Outcome = "unchanged"  // contact exists; nothing was empty to fill
	Superseded Outcome = "superseded" // a newer signup for the email was delivered first
	Qualified  Outcome = "qualified"  // the referral was qualified at Referral Factory
)

// Event is one signup received from Referral Factory, with its delivery
// state. It is stored as JSON in the portal's event hash.
type Event struct {
	ID         string          `json:"id"`
	SourceID   string          `json:"source_id"`
	HubID      int64           `json:"hub_id"`
	Route      string          `json:"route"`
	Email      string          `json:"email"`
	Status     Status          `json:"status"`
	ReceivedAt time.Time       `json:"received_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	Payload    []payload.Field `json:"payload"`
	Test       bool            `json:"test,omitempty"`
	Lead       bool            `json:"lead,omitempty"` // a person invited, not a referrer (app/leads)
	// Kind is empty for a signup; KindQualification for a referral
	// qualified at Referral Factory (recorded with Record, never on a lane).
	Kind Kind `json:"kind,omitempty"`
	// Origin is how the signup reached refhub when not by webhook:
	// "backfill" or "reconcile" (read from Referral Factory's API).
	Origin Origin `json:"origin,omitempty"`
	// SignedUpAt is when the person signed up in Referral Factory, for an
	// event read from its API: an older copy than a webhook received since.
	SignedUpAt time.Time `json:"signed_up_at,omitzero"`
	Size       int       `json:"size,omitempty"` // payload bytes, as counted in the backlog (set by Enqueue)
	Replays    int       `json:"replays,omitempty"`

	Outcome     Outcome    `json:"outcome,omitempty"`
	ContactID   string     `json:"contact_id,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`

	Attempts     int        `json:"attempts,omitempty"`
	FirstFailure *time.Time `json:"first_failure,omitempty"`
	LastFailure  *time.Time `json:"last_failure,omitempty"`
	Reason       string     `json:"reason,omitempty"`   // plain words, for an admin
	Fix          string     `json:"fix,omitempty"`      // what to do about it
	Code         string     `json:"code,omitempty"`     // HubSpot's code, e.g. INVALID_EMAIL
	Property     string     `json:"property,omitempty"` // the HubSpot property concerned
}

// Origin says how a signup reached refhub other than by webhook.
type Origin string

// Origins of events read from Referral Factory's API.
const (
	FromBackfill  Origin = "backfill"  // a backfill of a campaign's users
	FromReconcile Origin = "reconcile" // a reconcile: users refhub never delivered
)

// Time is when the signup's data is from: its Referral Factory sign-up time
// for a copy read from the API, else when refhub received it. Of two
// copies of a person, delivery keeps the newer by this time.
func (e *Event) Time() time.Time {
	if !e.SignedUpAt.IsZero() {
		return e.SignedUpAt
	}
	return e.ReceivedAt
}

// encode is the stored form of an event: JSON without HTML escaping, which
// would store '<', '>' and '&' in a payload as six bytes each (the pages
// and the API escape what they show themselves). payload.Size counts the
// payload's bytes in this form.
func (e *Event) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Item is an event at the head of a lane.
type Item struct {
	StreamID string
	Event    Event
	Missing  bool // the lane referenced an event record that is gone
}

var idEnc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewEventID returns a unique, time-ordered event id ("ev_" + 26 chars:
// 48 bits of milliseconds, 80 random bits).
func NewEventID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err)
	}
	return "ev_" + strings.ToLower(idEnc.EncodeToString(b[:]))
}
