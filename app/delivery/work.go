package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// work is one contact to write: the events for one email in a batch,
// merged (the newer signup's values win), and the result.
type work struct {
	items    []queue.Item
	subjects []leads.Subject // who each item is, for the referrer links and counts
	email    string
	props    map[string]string
	deal     *deals.Input // the referral's deal, when its source makes one
	newest   time.Time    // the newest Event.Time merged

	done      bool
	outcome   queue.Outcome
	contactID string
	dealID    string
	notSent   string // why the signup is settled without a HubSpot call
	bad       *Reason
	retryErr  error
}

// merge adds an event for the same email. The newer copy's values win (by
// Event.Time): a copy read from Referral Factory's API during a backfill
// carries the person's sign-up time, so it only fills in what a webhook
// received since left empty. It reports whether the copy is the newest.
func (w *work) merge(it queue.Item, props map[string]string) (newer bool) {
	w.items = append(w.items, it)
	newer = !it.Event.Time().Before(w.newest)
	for k, v := range props {
		if _, set := w.props[k]; !set || newer {
			w.props[k] = v
		}
	}
	if newer {
		w.newest = it.Event.Time()
	}
	return newer
}

// newestEvent is the merged event whose data is the newest.
func (w *work) newestEvent() queue.Event {
	newest := w.items[0].Event
	for _, it := range w.items[1:] {
		if !it.Event.Time().Before(newest.Time()) {
			newest = it.Event
		}
	}
	return newest
}

func (w *work) deliver(o queue.Outcome, contactID string) {
	w.done, w.outcome, w.contactID = true, o, contactID
}
func (w *work) fail(r Reason) { w.bad = &r }

// skip settles a signup of a kind its source sends nothing to HubSpot for.
func (w *work) skip(why string) { w.done, w.notSent = true, why }

// undo takes back a written contact's delivery: a step after it (its
// referrer link, its deal) was refused, and the event is dead-lettered with r.
func (w *work) undo(r Reason) {
	w.done = false
	w.fail(r)
}

// retryAll puts every work of the batch back to retry: a step after the
// contacts failed for the whole batch, like a failed contact write.
func (b *batch) retryAll() {
	for _, w := range b.works {
		w.done = false
	}
}
func (w *work) settled() bool { return w.done || w.bad != nil }

// pending returns the works that have no result yet.
func pending(ws []*work) []*work {
	var out []*work
	for _, w := range ws {
		if !w.settled() {
			out = append(out, w)
		}
	}
	return out
}

// settled returns the works that have a result.
func settled(ws []*work) []*work {
	var out []*work
	for _, w := range ws {
		if w.settled() {
			out = append(out, w)
		}
	}
	return out
}

// NotSentText says why a signup of a kind its source sends nothing for was
// not sent.
func NotSentText(lead bool) string {
	return "Not sent: this source sends no " + tenants.KindName(lead) + " to HubSpot."
}

// batch is what one lane round sends: works of one duplicate policy, plus
// events settled without a HubSpot call (no email, source gone, superseded,
// a kind the source sends nothing for).
type batch struct {
	policy  tenants.Policy
	works   []*work
	settled []*work
	cut     bool                        // events were left in the lane for the next round
	defs    map[string]hubspot.Property // the portal's properties (nil: unknown)
	leadish bool                        // leads or referral counts are involved: links and counts may need calls
	more    bool                        // signups wait behind this batch in the lane
	dealish bool                        // some work has a deal to write

	missingScopes []string // deal scopes the portal's install lacks
}

// prepare maps the events at the head of a lane to contacts. It takes the
// leading run of events that share a duplicate policy, applies each event's
// current mapping (so a replay after a mapping fix uses the fix) and merges
// events for the same email.
func (e *Engine) prepare(ctx context.Context, hub int64, items []queue.Item) (*batch, error) {
	b := &batch{}
	defsRead := false // read when a signup is to be sent: one sent nothing calls nothing
	byEmail := map[string]*work{}
	for _, it := range items {
		src, err := e.sources.Source(ctx, it.Event.SourceID)
		if errors.Is(err, tenants.ErrNotFound) {
			w := &work{items: []queue.Item{it}, email: it.Event.Email}
			w.fail(Reason{Code: "SOURCE_DELETED", Text: "The source that received this signup was deleted.",
				Fix: "Nothing to do: a deleted source's signups are not delivered."})
			b.settled = append(b.settled, w)
			continue
		}
		if err != nil {
			return nil, err
		}
		pl := payload.New(it.Event.Payload)
		it.Event.Lead = leads.IsLead(src.LeadRule, pl)
		if !src.Sends(it.Event.Lead) {
			// Decided here, from the source as it is now: a change of the
			// setting applies to what is queued.
			w := &work{items: []queue.Item{it}, email: it.Event.Email}
			w.skip(NotSentText(it.Event.Lead))
			b.settled = append(b.settled, w)
			continue
		}
		m := src.MappingOf(it.Event.Route, it.Event.Lead)
		if b.policy == "" {
			b.policy = m.OnExisting
		}
		if m.OnExisting != b.policy {
			b.cut = true // the next round takes the events of the other policy
			break
		}
		props, err := m.Apply(pl)
		if err != nil {
			if reason, ok := noEmail(err); ok {
				w := &work{items: []queue.Item{it}, email: it.Event.Email}
				w.fail(reason)
				b.settled = append(b.settled, w)
				continue
			}
			return nil, err
		}
		if !defsRead {
			b.defs, defsRead = e.propertyDefs(ctx, hub), true
		}
		properties.CoerceAll(props, b.defs)
		email := props["email"]
		sub := leads.Describe(src, it.Event.Route, it.Event.Lead, m, pl, email)
		if it.Event.Test {
			// A test signup reuses the last payload with another email: its
			// Referral Factory id and code belong to someone else.
			sub.KnownByEmailOnly()
		}
		b.leadish = b.leadish || sub.Lead || sub.CountProps != (leads.Counts{})
		var identity string
		if len(sub.Self) > 0 {
			identity = sub.Self[0]
		}
		deal := dealFor(src, it.Event.Lead, identity, m.OnExisting, pl)
		b.dealish = b.dealish || deal != nil
		if w, ok := byEmail[email]; ok {
			newer := w.merge(it, props)
			w.subjects = append(w.subjects, sub)
			if deal != nil && (newer || w.deal == nil) {
				w.deal = deal
			}
			continue
		}
		w := &work{items: []queue.Item{it}, subjects: []leads.Subject{sub}, email: email, props: props, newest: it.Event.Time(), deal: deal}
		byEmail[email] = w
		b.works = append(b.works, w)
	}
	if err := e.markSuperseded(ctx, hub, b); err != nil {
		return nil, err
	}
	if err := e.raiseCounts(ctx, hub, b); err != nil {
		return nil, err
	}
	return b, nil
}

// raiseCounts keeps the referral counts a batch writes from going back
// (leads.Service.Raise).
func (e *Engine) raiseCounts(ctx context.Context, hub int64, b *batch) error {
	if e.leads == nil || !b.leadish {
		return nil
	}
	subjects := make([]leads.Subject, len(b.works))
	props := make([]map[string]string, len(b.works))
	for i, w := range b.works {
		subjects[i], props[i] = w.subjects[len(w.subjects)-1], w.props
	}
	return e.leads.Raise(ctx, hub, subjects, props)
}

// noEmail is the reason of a signup the mapping gives no email.
func noEmail(err error) (Reason, bool) {
	var ne *tenants.NoEmailError
	if !errors.As(err, &ne) {
		return Reason{}, false
	}
	return Reason{Code: "NO_EMAIL", Text: "The mapping gives this signup no email: " + ne.Problem,
		Fix: "Map the Referral Factory field that holds the email to the property email." + replayHint}, true
}

// markSuperseded settles replayed events for whose email a newer signup was
// delivered since they failed, and copies read from Referral Factory's API
// older than a webhook delivered for the person: sending them would
// overwrite newer data. A work is judged by its newest event.
func (e *Engine) markSuperseded(ctx context.Context, hub int64, b *batch) error {
	var replayed []queue.Event
	for _, w := range b.works {
		if ev := w.newestEvent(); ev.Replays > 0 || ev.Origin != "" {
			replayed = append(replayed, ev)
		}
	}
	if len(replayed) == 0 {
		return nil
	}
	sup, err := e.q.Superseded(ctx, hub, replayed)
	if err != nil {
		return err
	}
	kept := b.works[:0]
	for _, w := range b.works {
		if sup[w.newestEvent().ID] {
			w.deliver(queue.Superseded, "")
			b.settled = append(b.settled, w)
			continue
		}
		kept = append(kept, w)
	}
	b.works = kept
	return nil
}

// propertyDefs returns the portal's property definitions, or nil if they
// cannot be had right now (values are then sent as received).
func (e *Engine) propertyDefs(ctx context.Context, hub int64) map[string]hubspot.Property {
	if e.props == nil {
		return nil
	}
	defs, err := e.props.Properties(ctx, hub)
	if err != nil {
		e.log.Debug("property definitions unavailable", slog.Int64("portal", hub), slog.Any("err", err))
		return nil
	}
	return defs
}

// isolate runs op on ws. When HubSpot refuses the whole call because of some
// inputs (a validation error, or a conflict it reports for the first
// duplicate only), it sets those aside — the ones the error names, or half
// of the batch at a time — so every other input still goes through. onBad
// settles an input proven bad on its own. Other errors are returned.
func isolate(ctx context.Context, ws []*work, op func(context.Context, []*work) error, onBad func(*work, error)) error {
	if len(ws) == 0 {
		return nil
	}
	err := op(ctx, ws)
	var ve *hubspot.ValidationError
	var ce *hubspot.ConflictError
	isVE, isCE := errors.As(err, &ve), errors.As(err, &ce)
	if err == nil || (!isVE && !isCE) {
		return err
	}
	if len(ws) == 1 {
		onBad(ws[0], err)
		return nil
	}
	if isVE {
		certain, suspects := culprits(ws, ve)
		if len(certain) > 0 || (len(suspects) > 0 && len(suspects) < len(ws)) {
			for _, w := range certain {
				onBad(w, err)
			}
			rest := without(ws, certain, suspects)
			if err := isolate(ctx, rest, op, onBad); err != nil {
				return err
			}
			return isolate(ctx, without(suspects, certain, nil), op, onBad)
		}
	}
	mid := len(ws) / 2
	if err := isolate(ctx, ws[:mid], op, onBad); err != nil {
		return err
	}
	return isolate(ctx, ws[mid:], op, onBad)
}

func without(ws []*work, a, b []*work) []*work {
	drop := map[*work]bool{}
	for _, w := range a {
		drop[w] = true
	}
	for _, w := range b {
		drop[w] = true
	}
	var out []*work
	for _, w := range ws {
		if !drop[w] {
			out = append(out, w)
		}
	}
	return out
}

// mappedProperties lists the properties any work sets, for batch reads.
func mappedProperties(ws []*work) []string {
	set := map[string]bool{}
	for _, w := range ws {
		for k := range w.props {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func errMissingFromAnswer(email string) error {
	return fmt.Errorf("HubSpot's answer did not include the contact %s", email)
}
