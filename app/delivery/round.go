package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

type laneMode int

const (
	idleLane laneMode = iota
	requeueLane
	parkLane
)

type decision struct {
	mode laneMode
	due  time.Time
}

func (e *Engine) at(d time.Duration) decision {
	return decision{mode: requeueLane, due: e.now().Add(d)}
}

// round works one batch of a leased lane and decides what happens to the
// lane next.
func (e *Engine) round(ctx context.Context, hub int64) decision {
	log := e.log.With(slog.Int64("portal", hub))
	portal, err := e.portals.Portal(ctx, hub)
	if errors.Is(err, tenants.ErrNotFound) {
		return decision{mode: idleLane} // deleted; its lane went with it
	}
	if err != nil {
		log.Warn("load portal", slog.Any("err", err))
		return e.at(internalRetry)
	}
	if portal.Status != tenants.Connected {
		e.metrics.parked.Inc()
		return decision{mode: parkLane}
	}
	items, err := e.q.Head(ctx, hub, e.cfg.BatchSize)
	if err != nil {
		log.Warn("read lane", slog.Any("err", err))
		return e.at(internalRetry)
	}
	if len(items) == 0 {
		return e.countsOnly(ctx, hub)
	}
	items, err = e.dropMissing(ctx, hub, items)
	if err != nil {
		log.Warn("drop purged events", slog.Any("err", err))
		return e.at(internalRetry)
	}
	if len(items) == 0 {
		return decision{mode: requeueLane, due: e.now()}
	}
	b, err := e.prepare(ctx, hub, items)
	if err != nil {
		log.Warn("prepare batch", slog.Any("err", err))
		return e.at(internalRetry)
	}
	b.more = len(items) == e.cfg.BatchSize || b.cut
	b.missingScopes = portal.MissingDealScopes()
	lane := &laneResult{}
	if len(b.works) > 0 {
		res, wait, err := e.limiter.Reserve(ctx, hub, CallsFor(b.policy)+e.extraCalls(b)+e.dealCalls(b))
		if err != nil {
			log.Warn("rate limiter", slog.Any("err", err))
			return e.at(internalRetry)
		}
		if res == nil {
			e.metrics.throttled.Inc()
			e.record(ctx, hub, b.settled, nil)
			return e.at(wait)
		}
		lane = e.deliver(ctx, hub, b, res)
		res.Release(ctx)
		var rl *hubspot.RateLimitError
		if err := e.q.CountCalls(ctx, hub, lane.calls, errors.As(lane.err, &rl)); err != nil {
			log.Warn("count calls", slog.Any("err", err))
		}
	}
	return e.conclude(ctx, hub, b, lane, len(items) == e.cfg.BatchSize || b.cut)
}

// dropMissing removes lane entries whose event was purged (its source was
// deleted) and returns the others.
func (e *Engine) dropMissing(ctx context.Context, hub int64, items []queue.Item) ([]queue.Item, error) {
	var gone []string
	kept := items[:0]
	for _, it := range items {
		if it.Missing {
			gone = append(gone, it.StreamID)
			continue
		}
		kept = append(kept, it)
	}
	return kept, e.q.Drop(ctx, hub, gone)
}

// laneResult is a round's error that concerns the whole lane, and how many
// HubSpot calls it made.
type laneResult struct {
	err   error
	calls int
}

// maxFailovers bounds the grants one round moves through.
const maxFailovers = 5

// deliver sends the batch, retrying once with a fresh token if HubSpot
// refuses the access token. A grant HubSpot refuses (a 401 for a fresh
// token, scopes missing) is reported through Portals.Refused, and the rest
// of the batch is sent again with the portal's next working grant; a
// portal none of whose grants works is reported through
// Portals.NeedsReconnect.
func (e *Engine) deliver(ctx context.Context, hub int64, b *batch, res *ratelimit.Reservation) *laneResult {
	var last atomic.Value
	tokenFn := func(ctx context.Context) (string, error) {
		t, err := e.tokens.AccessToken(ctx, hub)
		if err == nil {
			last.Store(t)
		}
		return t, err
	}
	counter := &countingLimiter{Limiter: res.Limiter(), m: e.metrics}
	api := e.hs.Portal(hub, tokenFn, counter)
	start := e.now()
	// The contacts, then the batch's leads linked and counts written,
	// then its deals.
	write := func(ws []*work) error {
		err := send(ctx, api, b.policy, ws)
		if err == nil {
			err = e.followLeads(ctx, hub, api, b)
		}
		if err == nil {
			err = e.followDeals(ctx, hub, api, b)
		}
		return err
	}
	err := write(b.works)
	var ae *hubspot.AuthError
	if errors.As(err, &ae) {
		used, _ := last.Load().(string)
		_ = e.tokens.Invalidate(ctx, hub, used)
		err = write(pending(b.works))
	}
	for failovers := 0; ; failovers++ {
		reason := refusal(err)
		if reason == "" {
			break
		}
		used, _ := last.Load().(string)
		if failovers < maxFailovers && e.portals.Refused(ctx, hub, used, reason) {
			err = write(pending(b.works))
			continue
		}
		err = &oauth.ReconnectError{HubID: hub, Revoked: true, Reason: reason}
		break
	}
	var re *oauth.ReconnectError
	if errors.As(err, &re) && re.Revoked {
		e.portals.NeedsReconnect(ctx, hub, re.Reason)
	}
	e.metrics.batchSeconds.Observe(e.now().Sub(start).Seconds())
	return &laneResult{err: err, calls: int(counter.n.Load())}
}

// refusal says why HubSpot refused the grant in use ("" if err is not
// such a refusal): a 401 for a freshly refreshed token, or scopes missing
// (only a new install grants them).
func refusal(err error) string {
	var ae *hubspot.AuthError
	if errors.As(err, &ae) {
		return "HubSpot refused a freshly refreshed access token (" + ae.Message + "): install refhub again in this portal"
	}
	var se *hubspot.ScopeError
	if errors.As(err, &se) {
		return fmt.Sprintf("HubSpot says refhub lacks the scopes %s in this portal: install refhub again to grant them",
			strings.Join(se.RequiredScopes, ", "))
	}
	return ""
}

// conclude records every event's outcome and decides the lane's next step.
func (e *Engine) conclude(ctx context.Context, hub int64, b *batch, lane *laneResult, full bool) decision {
	now := e.now()
	retry, err := e.q.Retry(ctx, hub)
	if err != nil {
		e.log.Warn("read retry state", slog.Int64("portal", hub), slog.Any("err", err))
	}
	var waitFor time.Duration
	var laneErr error
	mode := requeueLane
	if lane.err != nil {
		laneErr = lane.err
		for _, w := range pending(b.works) {
			w.retryErr = lane.err
		}
	}
	for _, w := range b.works {
		if !w.settled() && w.retryErr != nil && laneErr == nil {
			laneErr = w.retryErr
		}
	}
	class, delay := classify(laneErr)
	e.metrics.failed(class)
	switch class {
	case classNone:
		retry = queue.RetryState{}
	case classReconnect:
		mode = parkLane
		e.metrics.outcome("waiting_reconnect", len(pending(b.works)))
	case classRateLimited:
		e.metrics.rateLimited.Inc()
		waitFor = delay
	case classBad:
		// A refusal that isolation could not pin on single inputs (it only
		// reaches here from an unexpected call): retrying cannot help.
		for _, w := range pending(b.works) {
			failWith(w, laneErr)
		}
		retry, laneErr = queue.RetryState{}, nil
	case classInternal:
		// Redis failed mid-round: try again soon. What HubSpot already
		// settled is recorded (if Redis lets us); the rest stays as it was.
		e.log.Warn("delivery round failed on refhub's side", slog.Int64("portal", hub), slog.Any("err", laneErr))
		e.record(ctx, hub, append(b.settled, settled(b.works)...), nil)
		return e.at(delay)
	default:
		if retry.Attempts == 0 {
			retry.FirstFailure = now
		}
		retry.Attempts++
		retry.LastError = laneErr.Error()
		waitFor = max(delay, e.backoff(retry.Attempts))
		if now.Sub(retry.FirstFailure) >= e.cfg.RetryFor {
			e.giveUp(b.works, retry, laneErr)
			retry, waitFor = queue.RetryState{}, 0
		}
	}
	if err := e.q.SetRetry(ctx, hub, retry); err != nil {
		e.log.Warn("store retry state", slog.Int64("portal", hub), slog.Any("err", err))
	}
	e.record(ctx, hub, append(b.settled, b.works...), laneErr)
	switch {
	case mode == parkLane:
		return decision{mode: parkLane}
	case waitFor > 0:
		return e.at(waitFor)
	case full:
		// Behind every lane already waiting, even one signalled this very
		// millisecond: that is what keeps a flood from starving others.
		return decision{mode: requeueLane, due: now.Add(time.Millisecond)}
	}
	// Less than a full batch was waiting: the lane is done unless more
	// arrived meanwhile (Release keeps a lane that was signalled).
	return decision{mode: idleLane}
}

// giveUp dead-letters what kept failing for RetryFor.
func (e *Engine) giveUp(ws []*work, s queue.RetryState, err error) {
	for _, w := range pending(ws) {
		w.fail(Reason{Code: "RETRIES_EXHAUSTED",
			Text: fmt.Sprintf("HubSpot kept failing for %s (%d attempts since %s): %v",
				e.cfg.RetryFor, s.Attempts, s.FirstFailure.UTC().Format(time.RFC3339), err),
			Fix: "Check HubSpot's status and this portal's connection, then replay the dead letters."})
	}
}

// record writes every event's new state in one step.
func (e *Engine) record(ctx context.Context, hub int64, ws []*work, laneErr error) {
	now := e.now().UTC()
	var updates []queue.Update
	for _, w := range ws {
		for _, it := range w.items {
			ev := it.Event
			switch {
			case w.notSent != "":
				ev.Status, ev.Outcome, ev.ContactID, ev.DeliveredAt = queue.NotSent, "", "", nil
				ev.Reason, ev.Fix, ev.Code, ev.Property = w.notSent, "", "", ""
				e.metrics.outcome(string(queue.NotSent), 1)
			case w.done:
				ev.Status, ev.Outcome, ev.ContactID = queue.Delivered, w.outcome, w.contactID
				ev.DeliveredAt, ev.Reason, ev.Fix, ev.Code, ev.Property = &now, "", "", "", ""
				e.metrics.outcome(string(w.outcome), 1)
				e.metrics.observeLatency(now.Sub(ev.ReceivedAt))
			case w.bad != nil:
				ev.Status = queue.Failed
				ev.Attempts++
				stamp(&ev, now)
				ev.Reason, ev.Fix, ev.Code, ev.Property = w.bad.Text, w.bad.Fix, w.bad.Code, w.bad.Property
				e.metrics.deadLetter(w.bad.Code)
			case w.retryErr != nil || laneErr != nil:
				ev.Attempts++
				stamp(&ev, now)
				ev.Reason = retryText(firstErr(w.retryErr, laneErr))
			default:
				continue
			}
			updates = append(updates, queue.Update{StreamID: it.StreamID, Event: ev})
		}
	}
	if err := e.q.Finish(ctx, hub, updates); err != nil {
		e.log.Error("record delivery outcomes", slog.Int64("portal", hub), slog.Any("err", err))
	}
}

func stamp(ev *queue.Event, now time.Time) {
	if ev.FirstFailure == nil {
		ev.FirstFailure = &now
	}
	ev.LastFailure = &now
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// countingLimiter counts HubSpot calls for the metrics.
type countingLimiter struct {
	hubspot.Limiter
	m *Metrics
	n atomic.Int64
}

func (c *countingLimiter) Wait(ctx context.Context, hub int64) error {
	c.m.calls.Inc()
	c.n.Add(1)
	return c.Limiter.Wait(ctx, hub)
}
