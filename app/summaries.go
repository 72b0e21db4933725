package app

import (
	"context"
	"errors"

	"github.com/refhub/refhub/tenants"
)

// Summaries: what the home, portal and source pages (and the API) show
// of a portal's or a source's counts and lanes.

// portalSummary is a portal with today's counts, for the workspace home.
type portalSummary struct {
	portalView
	Sources   int   `json:"sources"`
	Delivered int64 `json:"delivered_today"`
	Failed    int64 `json:"failed_today"`
	Rejected  int64 `json:"rejected_today"`
	Queued    int64 `json:"queued"`
}

// summarizePortals adds today's counts and queue depth to portals.
func (a *App) summarizePortals(ctx context.Context, ps []tenants.Portal, srcs []tenants.Source) ([]portalSummary, error) {
	out := make([]portalSummary, len(ps))
	today := a.now()
	for i, p := range ps {
		st, err := a.queue.Stats(ctx, p.HubID, "", today)
		if err != nil {
			return nil, err
		}
		depth, err := a.queue.Depth(ctx, p.HubID)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, s := range srcs {
			if containsHub(s.Portals(), p.HubID) {
				n++
			}
		}
		out[i] = portalSummary{portalView: viewPortal(p), Sources: n, Delivered: st.Delivered, Failed: st.Failed,
			Rejected: st.Rejected, Queued: depth}
	}
	return out, nil
}

// laneSummary is the state of one portal's lane, as a source's activity
// shows it.
type laneSummary struct {
	HubID         int64   `json:"hub_id"`
	Queued        int64   `json:"queued"`
	LagSeconds    float64 `json:"lag_seconds"`
	Parked        bool    `json:"parked"`
	RetryAttempts int     `json:"retry_attempts"`
	LastError     string  `json:"last_error,omitempty"`
	CallsToday    int64   `json:"hubspot_calls_today"`
	RateLimited   int64   `json:"hubspot_429_today"`
}

// sourceSummary is a source's counts for today and its portals' lanes.
type sourceSummary struct {
	DeliveredToday int64         `json:"delivered_today"`
	FailedToday    int64         `json:"failed_today"`
	RejectedToday  int64         `json:"rejected_today"`
	DeadLetters    int64         `json:"dead_letters"`
	Lanes          []laneSummary `json:"lanes"`
	Backlog        backlogView   `json:"backlog"`
}

// sourceSummary reads the lanes of the source's portals that its own
// workspace holds: a portal deleted and then installed by another
// workspace is that workspace's, lane and counters included.
func (a *App) sourceSummary(ctx context.Context, src tenants.Source) (sourceSummary, error) {
	var s sourceSummary
	now := a.now()
	hubs, err := a.ownPortals(ctx, src)
	if err != nil {
		return s, err
	}
	if s.Backlog, err = a.quota.view(ctx, src); err != nil {
		return s, err
	}
	for _, hub := range hubs {
		st, err := a.queue.Stats(ctx, hub, src.ID, now)
		if err != nil {
			return s, err
		}
		dead, err := a.queue.DeadCount(ctx, hub, src.ID)
		if err != nil {
			return s, err
		}
		s.DeliveredToday += st.Delivered
		s.FailedToday += st.Failed
		s.RejectedToday += st.Rejected
		s.DeadLetters += dead
		lane, err := a.laneSummary(ctx, hub)
		if err != nil {
			return s, err
		}
		s.Lanes = append(s.Lanes, lane)
	}
	return s, nil
}

// ownPortals returns the portals the source sends or sent to that belong
// to its workspace.
func (a *App) ownPortals(ctx context.Context, src tenants.Source) ([]int64, error) {
	var out []int64
	for _, hub := range src.AllPortals() {
		_, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, hub)
		if errors.Is(err, tenants.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, hub)
	}
	return out, nil
}

func (a *App) laneSummary(ctx context.Context, hub int64) (laneSummary, error) {
	l := laneSummary{HubID: hub}
	var err error
	if l.Queued, err = a.queue.Depth(ctx, hub); err != nil {
		return l, err
	}
	lag, err := a.queue.Lag(ctx, hub)
	if err != nil {
		return l, err
	}
	l.LagSeconds = lag.Seconds()
	if l.Parked, err = a.queue.Parked(ctx, hub); err != nil {
		return l, err
	}
	rs, err := a.queue.Retry(ctx, hub)
	if err != nil {
		return l, err
	}
	l.RetryAttempts, l.LastError = rs.Attempts, rs.LastError
	st, err := a.queue.Stats(ctx, hub, "", a.now())
	l.CallsToday, l.RateLimited = st.Calls, st.RateLimited
	return l, err
}
