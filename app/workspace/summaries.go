package workspace

import (
	"context"
	"errors"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Summaries: what the home, portal and source pages (and the API) show
// of a portal's or a source's counts and lanes.

// PortalSummary is a portal with today's counts, for the workspace home.
type PortalSummary struct {
	PortalView
	Sources   int   `json:"sources"`
	Delivered int64 `json:"delivered_today"`
	Failed    int64 `json:"failed_today"`
	Rejected  int64 `json:"rejected_today"`
	Queued    int64 `json:"queued"`
	// Grants are the HubSpot users whose grant refhub holds for the portal
	// (delivery uses one and fails over to the next); WorkingGrants counts
	// those HubSpot still honours. One working grant means the portal
	// depends on one person.
	Grants        []oauth.GrantView `json:"grants"`
	WorkingGrants int               `json:"working_grants"`
}

// OnePerson reports whether delivery to the portal depends on one
// person's grant.
func (s PortalSummary) OnePerson() bool { return s.WorkingGrants == 1 }

// FailedGrants are the grants HubSpot stopped honouring, for the notice
// that tells the owner.
func (s PortalSummary) FailedGrants() []oauth.GrantView {
	var out []oauth.GrantView
	for _, g := range s.Grants {
		if !g.Working {
			out = append(out, g)
		}
	}
	return out
}

// InUse is the grant delivery uses now (zero if none works).
func (s PortalSummary) InUse() oauth.GrantView {
	for _, g := range s.Grants {
		if g.InUse {
			return g
		}
	}
	return oauth.GrantView{}
}

// PortalReads is how many portals' reads a page runs at once (the home
// page shows up to 25 portals, each taking a few Redis round trips); 1
// reads them one after another.
var PortalReads = 8

// EachPortal runs read(i) for i in [0, n), PortalReads at a time, and
// returns the first error.
func EachPortal(ctx context.Context, n int, read func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(PortalReads, 1))
	for i := range n {
		g.Go(func() error { return read(gctx, i) })
	}
	return g.Wait()
}

// Summarize adds today's counts, queue depth and how many of srcs send to
// it to each portal of ps.
func (o *Portals) Summarize(ctx context.Context, ps []tenants.Portal, srcs []tenants.Source) ([]PortalSummary, error) {
	out := make([]PortalSummary, len(ps))
	today := o.d.Now()
	err := EachPortal(ctx, len(ps), func(ctx context.Context, i int) error {
		p := ps[i]
		st, err := o.d.Queue.Stats(ctx, p.HubID, "", today)
		if err != nil {
			return err
		}
		depth, err := o.d.Queue.Depth(ctx, p.HubID)
		if err != nil {
			return err
		}
		n := 0
		for _, s := range srcs {
			if slices.Contains(s.Portals(), p.HubID) {
				n++
			}
		}
		grants, err := o.d.Tokens.Grants(ctx, p.HubID)
		if err != nil {
			return err
		}
		working := 0
		for _, g := range grants {
			if g.Working {
				working++
			}
		}
		out[i] = PortalSummary{PortalView: ViewPortal(p), Sources: n, Delivered: st.Delivered, Failed: st.Failed,
			Rejected: st.Rejected, Queued: depth, Grants: grants, WorkingGrants: working}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Summary is one portal with today's counts, and the sources of its
// workspace member who may see (the portal page lists those sending to it).
func (o *Portals) Summary(ctx context.Context, p tenants.Portal, who tenants.Member) (PortalSummary, []tenants.Source, error) {
	srcs, err := o.sources.List(ctx, p.WorkspaceID, who)
	if err != nil {
		return PortalSummary{}, nil, err
	}
	sums, err := o.Summarize(ctx, []tenants.Portal{p}, srcs)
	if err != nil {
		return PortalSummary{}, nil, err
	}
	return sums[0], srcs, nil
}

// LaneSummary is the state of one portal's lane, as a source's activity
// shows it.
type LaneSummary struct {
	HubID         int64   `json:"hub_id"`
	Queued        int64   `json:"queued"`
	LagSeconds    float64 `json:"lag_seconds"`
	Parked        bool    `json:"parked"`
	RetryAttempts int     `json:"retry_attempts"`
	LastError     string  `json:"last_error,omitempty"`
	CallsToday    int64   `json:"hubspot_calls_today"`
	RateLimited   int64   `json:"hubspot_429_today"`
}

// SourceSummary is a source's counts for today, its portals' lanes and its
// backlog beside its quotas.
type SourceSummary struct {
	DeliveredToday int64          `json:"delivered_today"`
	FailedToday    int64          `json:"failed_today"`
	RejectedToday  int64          `json:"rejected_today"`
	DeadLetters    int64          `json:"dead_letters"`
	Lanes          []LaneSummary  `json:"lanes"`
	Backlog        ingest.Backlog `json:"backlog"`
}

// Summary reads the source's counts and the lanes of the source's portals
// that its own workspace holds: a portal deleted and then installed by
// another workspace is that workspace's, lane and counters included.
func (o *Sources) Summary(ctx context.Context, src tenants.Source) (SourceSummary, error) {
	var s SourceSummary
	now := o.d.Now()
	hubs, err := o.ownPortals(ctx, src)
	if err != nil {
		return s, err
	}
	if s.Backlog, err = o.d.Quota.View(ctx, src); err != nil {
		return s, err
	}
	for _, hub := range hubs {
		st, err := o.d.Queue.Stats(ctx, hub, src.ID, now)
		if err != nil {
			return s, err
		}
		dead, err := o.d.Queue.DeadCount(ctx, hub, src.ID)
		if err != nil {
			return s, err
		}
		s.DeliveredToday += st.Delivered
		s.FailedToday += st.Failed
		s.RejectedToday += st.Rejected
		s.DeadLetters += dead
		lane, err := o.laneSummary(ctx, hub)
		if err != nil {
			return s, err
		}
		s.Lanes = append(s.Lanes, lane)
	}
	return s, nil
}

// ownPortals returns the portals the source sends or sent to that belong
// to its workspace.
func (o *Sources) ownPortals(ctx context.Context, src tenants.Source) ([]int64, error) {
	var out []int64
	for _, hub := range src.AllPortals() {
		_, err := o.d.Store.WorkspacePortal(ctx, src.WorkspaceID, hub)
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

func (o *Sources) laneSummary(ctx context.Context, hub int64) (LaneSummary, error) {
	l := LaneSummary{HubID: hub}
	var err error
	if l.Queued, err = o.d.Queue.Depth(ctx, hub); err != nil {
		return l, err
	}
	lag, err := o.d.Queue.Lag(ctx, hub)
	if err != nil {
		return l, err
	}
	l.LagSeconds = lag.Seconds()
	if l.Parked, err = o.d.Queue.Parked(ctx, hub); err != nil {
		return l, err
	}
	rs, err := o.d.Queue.Retry(ctx, hub)
	if err != nil {
		return l, err
	}
	l.RetryAttempts, l.LastError = rs.Attempts, rs.LastError
	st, err := o.d.Queue.Stats(ctx, hub, "", o.d.Now())
	l.CallsToday, l.RateLimited = st.Calls, st.RateLimited
	return l, err
}
