package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// Events are the operations on a source's signups: its activity, one
// event, retrying, dead letters and their replay.
type Events struct {
	d       *Deps
	portals *Portals
}

// Activity returns one page of a source's activity, f permitting, each
// waiting event with why it waits.
func (o *Events) Activity(ctx context.Context, src tenants.Source, f queue.Filter) ([]EventView, error) {
	evs, err := o.d.Queue.Activity(ctx, src.AllPortals(), src.ID, f)
	if err != nil {
		return nil, err
	}
	o.explainWaiting(ctx, evs)
	return o.Views(evs), nil
}

// Find returns one of a source's events by id.
func (o *Events) Find(ctx context.Context, src tenants.Source, id string) (queue.Event, error) {
	for _, hub := range src.AllPortals() {
		ev, err := o.d.Queue.Event(ctx, hub, id)
		if err == nil && ev.SourceID == src.ID {
			return ev, nil
		}
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return ev, err
		}
	}
	return queue.Event{}, apperr.New(apperr.NotFound, "no such event")
}

// Explained returns one of a source's events by id, with why it waits if
// it does.
func (o *Events) Explained(ctx context.Context, src tenants.Source, id string) (queue.Event, error) {
	ev, err := o.Find(ctx, src, id)
	if err != nil {
		return ev, err
	}
	evs := []queue.Event{ev}
	o.explainWaiting(ctx, evs)
	return evs[0], nil
}

// LastPayload returns the newest signup Referral Factory sent to a source
// (test signups excluded), or nil.
func (o *Events) LastPayload(ctx context.Context, src tenants.Source) (*queue.Event, error) {
	evs, err := o.d.Queue.Activity(ctx, src.AllPortals(), src.ID, queue.Filter{Limit: 20})
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if !evs[i].Test && evs[i].Kind == "" && len(evs[i].Payload) > 0 {
			return &evs[i], nil
		}
	}
	return nil, nil
}

// Retry sends one event again: a dead letter is queued again; a signup
// refused at the webhook (for example for want of an email), or stored
// without being sent while the source sent nothing of its kind, is built
// again (ingest.Build) with the source's current settings and queued if it
// now passes.
func (o *Events) Retry(ctx context.Context, src tenants.Source, id string) (queue.Event, error) {
	ev, err := o.Find(ctx, src, id)
	if err != nil {
		return ev, err
	}
	switch {
	case ev.Status == queue.Failed && ev.Kind != "":
		if _, err := o.replayRecords(ctx, []queue.Event{ev}); err != nil {
			return ev, err
		}
		return o.d.Queue.Event(ctx, ev.HubID, ev.ID)
	case ev.Status == queue.Failed:
		if _, err := o.d.Queue.Replay(ctx, []int64{ev.HubID}, src.ID, []string{ev.ID}); err != nil {
			return ev, err
		}
		o.d.Wake()
		return o.d.Queue.Event(ctx, ev.HubID, ev.ID)
	case ev.Status == queue.NotSent && !src.Sends(ev.Lead):
		return ev, apperr.New(apperr.Conflict, "this source still sends no "+tenants.KindName(ev.Lead)+
			" to HubSpot: choose \"Contact only\" or \"Contact and deal\" for them on the source's Deals tab (or PATCH send), then send this signup")
	case ev.Status == queue.Rejected || ev.Status == queue.NotSent:
		if len(ev.Payload) == 0 {
			return ev, apperr.New(apperr.Unprocessable, "this request had no readable signup data to send again")
		}
		fresh, err := ingest.Build(&src, payload.New(ev.Payload), o.d.Now().UTC())
		var ne *tenants.NoEmailError
		if errors.As(err, &ne) {
			return ev, apperr.New(apperr.Unprocessable, "still refused with the current mapping: "+ne.Problem)
		}
		if err != nil {
			return ev, err
		}
		fresh.Replays = 1
		if _, _, err := o.d.Intake.Submit(ctx, fresh, "retry:"+ev.ID); err != nil {
			return ev, err
		}
		return *fresh, nil
	}
	return ev, apperr.New(apperr.Conflict, "only failed, refused or not sent signups can be retried; this one is "+string(ev.Status))
}

// DeadLetterPage is one page of a source's dead letters.
type DeadLetterPage struct {
	Events []EventView
	Next   string // cursor of the next page ("" on the last)
	Total  int64  // dead letters of the source in all
}

// DeadLetters reads one page of a source's dead letters: never all of them
// at once.
func (o *Events) DeadLetters(ctx context.Context, src tenants.Source, page queue.DeadPage) (DeadLetterPage, error) {
	evs, next, err := o.d.Queue.DeadLetters(ctx, src.AllPortals(), src.ID, page)
	if errors.Is(err, queue.ErrBadCursor) {
		return DeadLetterPage{}, apperr.New(apperr.Invalid, "after must be the next cursor a previous page gave")
	}
	if err != nil {
		return DeadLetterPage{}, err
	}
	total, err := o.deadCount(ctx, src)
	return DeadLetterPage{Events: o.Views(evs), Next: next, Total: total}, err
}

// deadCount is how many dead letters a source has.
func (o *Events) deadCount(ctx context.Context, src tenants.Source) (int64, error) {
	var total int64
	for _, hub := range src.AllPortals() {
		n, err := o.d.Queue.DeadCount(ctx, hub, src.ID)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Replay queues a source's dead letters again (those of ids, or the oldest
// queue.MaxReplay) and returns how many, and how many remain.
func (o *Events) Replay(ctx context.Context, src tenants.Source, ids []string) (int, int64, error) {
	n, err := o.d.Queue.Replay(ctx, src.AllPortals(), src.ID, ids)
	if n > 0 {
		o.d.Wake()
	}
	if err != nil {
		return n, 0, err
	}
	m, err := o.replayOthers(ctx, src, ids)
	n += m
	if err != nil {
		return n, 0, err
	}
	left, err := o.deadCount(ctx, src)
	return n, left, err
}

// replayOthers replays the dead letters that are not signups (of ids, or
// the first MaxReplay) through the rooms that recorded them.
func (o *Events) replayOthers(ctx context.Context, src tenants.Source, ids []string) (int, error) {
	var evs []queue.Event
	if len(ids) > 0 {
		for _, id := range ids {
			if ev, err := o.Find(ctx, src, id); err == nil && ev.Kind != "" {
				evs = append(evs, ev)
			}
		}
	} else {
		for cursor := ""; len(evs) < queue.MaxReplay; {
			page, next, err := o.d.Queue.DeadLetters(ctx, src.AllPortals(), src.ID, queue.DeadPage{After: cursor, Limit: queue.MaxDeadPage})
			if err != nil {
				return 0, err
			}
			for _, ev := range page {
				if ev.Kind != "" {
					evs = append(evs, ev)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	return o.replayRecords(ctx, evs)
}

func (o *Events) replayRecords(ctx context.Context, evs []queue.Event) (int, error) {
	n := 0
	for _, own := range o.d.Owners {
		m, err := own.ReplayRecords(ctx, evs)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// explainWaiting tells why queued events that were not attempted yet are
// waiting: their portal's lane is retrying after failures, or parked until
// the portal is reconnected.
func (o *Events) explainWaiting(ctx context.Context, evs []queue.Event) {
	states := map[int64]string{}
	for i, ev := range evs {
		if ev.Status != queue.Queued || ev.Reason != "" || ev.Kind != "" {
			continue
		}
		why, seen := states[ev.HubID]
		if !seen {
			why = o.laneExplanation(ctx, ev.HubID)
			states[ev.HubID] = why
		}
		evs[i].Reason = why
	}
}

func (o *Events) laneExplanation(ctx context.Context, hub int64) string {
	if p, err := o.d.Store.Portal(ctx, hub); err == nil && p.Status != tenants.Connected {
		return "Waiting for the portal to be reconnected: " + p.StatusReason
	}
	rs, err := o.d.Queue.Retry(ctx, hub)
	if err != nil || rs.Attempts == 0 {
		return ""
	}
	return fmt.Sprintf("Waiting: delivery to this portal is failing and being retried (%d attempts since %s). Last error: %s",
		rs.Attempts, rs.FirstFailure.UTC().Format(time.RFC3339), rs.LastError)
}
