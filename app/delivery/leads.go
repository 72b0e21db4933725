package delivery

import (
	"context"
	"errors"
	"log/slog"

	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
)

// Leads is what delivery asks of app/leads once a batch's contacts are
// written: keep counts from going back before the write, link the leads to
// their referrers and write the referrers' counts after it, and write the
// counts a qualification changed when no signup is waiting.
type Leads interface {
	Raise(ctx context.Context, hub int64, subjects []leads.Subject, props []map[string]string) error
	Link(ctx context.Context, hub int64, api leads.API, ds []leads.Delivered, src leads.Sources, defs map[string]hubspot.Property, more bool) (map[int]error, error)
	WriteCounts(ctx context.Context, hub int64, api leads.API, src leads.Sources, defs map[string]hubspot.Property) error
	HasCountsToWrite(ctx context.Context, hub int64) (bool, error)
}

var _ Leads = (*leads.Service)(nil)

// extraCalls is how many calls beyond the contact writes a batch reserves
// for its links and counts.
func (e *Engine) extraCalls(b *batch) int {
	if e.leads == nil || !b.leadish {
		return 0
	}
	return leads.CallsPerBatch
}

// followLeads links the batch's leads to their referrers and writes the
// counts, once the contacts are written. A lead HubSpot refused to link is
// dead-lettered with the reason (its contact is written: a replay links
// it). An error that concerns the whole batch puts every written contact
// back to retry, like a failed contact write: the next round writes them
// again (harmlessly) and links them then.
func (e *Engine) followLeads(ctx context.Context, hub int64, api leads.API, b *batch) error {
	if e.leads == nil {
		return nil
	}
	var ds []leads.Delivered
	var owner []*work
	for _, w := range b.works {
		if !w.done || w.contactID == "" || w.outcome == queue.Superseded {
			continue
		}
		for _, s := range w.subjects {
			ds = append(ds, leads.Delivered{Subject: s, ContactID: w.contactID, Sent: w.props})
			owner = append(owner, w)
		}
	}
	failed, err := e.leads.Link(ctx, hub, api, ds, e.sources, b.defs, b.more)
	if err != nil {
		b.retryAll()
		return err
	}
	for i, ferr := range failed {
		owner[i].undo(explainLink(ferr))
	}
	return nil
}

// explainLink is the reason of a lead HubSpot refused to link.
func explainLink(err error) Reason {
	why := err.Error()
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		why = ae.Message
	}
	return Reason{Code: "REFERRER_NOT_LINKED",
		Text: "The lead's contact is in HubSpot, but HubSpot refused to link it to its referrer: " + why +
			". The referrer's contact was probably deleted or merged in HubSpot.",
		Fix: "Replay this dead letter: the lead then waits for its referrer and is linked as soon as the referrer signs up again."}
}

// countsOnly is a round with no signup waiting: it writes the referral
// counts a qualification changed (leads.Service.MarkQualified wakes the
// lane for it).
func (e *Engine) countsOnly(ctx context.Context, hub int64) decision {
	if e.leads == nil {
		return decision{mode: idleLane}
	}
	dirty, err := e.leads.HasCountsToWrite(ctx, hub)
	if err != nil || !dirty {
		return decision{mode: idleLane}
	}
	res, wait, err := e.limiter.Reserve(ctx, hub, 1)
	if err != nil {
		return e.at(internalRetry)
	}
	if res == nil {
		return e.at(wait)
	}
	counter := &countingLimiter{Limiter: res.Limiter(), m: e.metrics}
	api := e.hs.Portal(hub, func(ctx context.Context) (string, error) { return e.tokens.AccessToken(ctx, hub) }, counter)
	err = e.leads.WriteCounts(ctx, hub, api, e.sources, e.propertyDefs(ctx, hub))
	res.Release(ctx)
	if cerr := e.q.CountCalls(ctx, hub, int(counter.n.Load()), false); cerr != nil {
		e.log.Warn("count calls", slog.Int64("portal", hub), slog.Any("err", cerr))
	}
	class, delay := classify(err)
	switch class {
	case classNone:
		if more, _ := e.leads.HasCountsToWrite(ctx, hub); more {
			return decision{mode: requeueLane, due: e.now().Add(1)}
		}
		return decision{mode: idleLane}
	case classReconnect:
		return decision{mode: parkLane}
	case classRateLimited, classInternal:
		return e.at(delay)
	}
	e.log.Warn("write referral counts", slog.Int64("portal", hub), slog.Any("err", err))
	return e.at(max(delay, e.backoff(3)))
}
