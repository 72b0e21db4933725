// Package ingest accepts Referral Factory's signups: the webhook
// (authenticate the source by its URL and secret, bound what a sender may
// cost, normalize and map the payload, queue it durably before answering)
// and Build, the one way a signup becomes a queued event — used by the
// webhook, the test signup and the retry of a refused signup alike.
package ingest

import (
	"context"
	"strings"
	"time"

	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// Build routes a signup of src by its campaign, tells a lead from a
// referrer (app/leads), applies the mapping of its kind
// and returns the event to queue, received at now. When the mapping cannot
// make a contact of it (of a kind the source sends to HubSpot) the error is
// a *tenants.NoEmailError, and the event
// is returned too (routed, without an email) for the refusal to be
// recorded where it would have gone.
func Build(src *tenants.Source, pl *payload.Payload, now time.Time) (*queue.Event, error) {
	var campaign string
	if len(src.Routes) > 0 { // the lookup scans the payload when the field is absent
		campaign, _ = pl.Get("campaign_id")
	}
	hub, _, route := src.Route(campaign)
	lead := leads.IsLead(src.LeadRule, pl)
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Route: route, Lead: lead,
		Status: queue.Queued, ReceivedAt: now, UpdatedAt: now, Payload: pl.Fields}
	props, err := src.MappingOf(route, lead).Apply(pl)
	if err != nil && !src.Sends(lead) {
		// Not sent to HubSpot: no contact to build, nothing to refuse;
		// the signup is stored and shown as not sent.
		return ev, nil
	}
	if err != nil {
		return ev, err
	}
	ev.Email = props["email"]
	return ev, nil
}

// Intake queues built events and wakes this process's delivery engine.
type Intake struct {
	q    *queue.Queue
	wake func()
}

// NewIntake returns an intake into q; wake tells delivery that work
// arrived.
func NewIntake(q *queue.Queue, wake func()) *Intake { return &Intake{q: q, wake: wake} }

// Submit stores ev durably, unless an event of the same dedupe hash was
// received in the last 24 hours (dup: id is that event's), and wakes
// delivery for a new one.
func (in *Intake) Submit(ctx context.Context, ev *queue.Event, dedupe string) (id string, dup bool, err error) {
	id, dup, err = in.q.Enqueue(ctx, ev, dedupe)
	if err == nil && !dup {
		in.wake()
	}
	return id, dup, err
}

// WebhookURL is the URL Referral Factory posts src's signups to, under
// refhub's public URL.
func WebhookURL(publicURL string, src tenants.Source) string {
	return strings.TrimRight(publicURL, "/") + "/hooks/referral-factory/" + src.Token
}

// CurlSample is a ready-to-paste command that sends a test signup to a
// webhook URL.
func CurlSample(webhookURL string) string {
	return `curl -sS -X POST '` + webhookURL + `' -H 'Content-Type: application/json' -d '{"email":"jane.doe+rf-test@example.com","first_name":"Jane","url":"https://example.referral-factory.com/r/JANE1","code":"JANE1","campaign_name":"Spring referral"}'`
}
