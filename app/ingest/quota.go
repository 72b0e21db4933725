package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/internal/lru"
	"github.com/refhub/refhub/tenants"
)

// usageTTL is how stale a backlog reading may be when a webhook is
// checked against the quotas: a replica reads each source's and
// workspace's backlog at most once a second, so the check costs ingest
// nothing measurable, and a quota may be overshot by what arrives in that
// second.
const usageTTL = time.Second

// Quotas are the backlogs a source and a workspace may hold: queued
// signups and dead letters, by count (Events) and payload bytes (Bytes).
type Quotas struct {
	Source, Workspace queue.Backlog
}

// Portals lists the portals a workspace owns.
type Portals interface {
	Portals(ctx context.Context, wsID string) ([]tenants.Portal, error)
}

// Quota refuses signups for a source, or a workspace, that holds as many
// as its quota allows. A real burst fits (the default quota holds 100,000
// signups per source); what it bounds is what a leaked URL or a broken
// portal can make refhub keep.
type Quota struct {
	q      *queue.Queue
	store  Portals
	limits Quotas
	now    func() time.Time
	mu     sync.Mutex
	seen   *lru.Map[usageAt]
	flight singleflight.Group
}

type usageAt struct {
	b  queue.Backlog
	at time.Time
}

// NewQuota returns the quotas l over q's backlogs.
func NewQuota(q *queue.Queue, store Portals, l Quotas, now func() time.Time) *Quota {
	return &Quota{q: q, store: store, limits: l, now: now, seen: lru.New[usageAt](100_000)}
}

// OverQuota is a backlog at its quota: what a refused sender and the admin
// are told.
type OverQuota struct {
	Scope    string // "source" or "workspace"
	Held     queue.Backlog
	Limit    int64
	Bytes    bool   // the byte quota (else the count)
	Variable string // the variable that sets it
}

func (e *OverQuota) Error() string {
	held := fmt.Sprintf("%d signups", e.Held.Events)
	if e.Bytes {
		held = fmt.Sprintf("%s of signups", mib(e.Held.Bytes))
	}
	limit := fmt.Sprint(e.Limit)
	if e.Bytes {
		limit = mib(e.Limit)
	}
	return fmt.Sprintf("this %s holds %s waiting for delivery or a fix, its limit (%s = %s); new signups are refused until it holds fewer. "+
		"Reconnect the portal, or fix and replay the dead letters; if the webhook URL leaked, rotate it; refhub's operator can raise the limit",
		e.Scope, held, e.Variable, limit)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Check returns the quota src is over, if any, from readings at most
// usageTTL old. A failed reading lets the signup through: refusing it
// would lose it, and storing it fails on its own if Redis is down.
func (b *Quota) Check(ctx context.Context, src *tenants.Source) *OverQuota {
	su, err := b.usage(ctx, "s:"+src.ID, func(ctx context.Context) (queue.Backlog, error) {
		return b.q.Backlog(ctx, src.AllPortals(), src.ID)
	})
	if err == nil {
		if e := b.sourceOver(su); e != nil {
			return e
		}
	}
	wu, err := b.usage(ctx, "w:"+src.WorkspaceID, func(ctx context.Context) (queue.Backlog, error) {
		return b.workspaceBacklog(ctx, src.WorkspaceID)
	})
	if err == nil {
		return b.workspaceOver(wu)
	}
	return nil
}

func (b *Quota) sourceOver(u queue.Backlog) *OverQuota {
	return over("source", u, b.limits.Source, "REFHUB_SOURCE_BACKLOG")
}

func (b *Quota) workspaceOver(u queue.Backlog) *OverQuota {
	return over("workspace", u, b.limits.Workspace, "REFHUB_WORKSPACE_BACKLOG")
}

func over(scope string, u, limit queue.Backlog, variable string) *OverQuota {
	switch {
	case u.Events >= limit.Events:
		return &OverQuota{Scope: scope, Held: u, Limit: limit.Events, Variable: variable}
	case u.Bytes >= limit.Bytes:
		return &OverQuota{Scope: scope, Held: u, Limit: limit.Bytes, Bytes: true, Variable: variable + "_BYTES"}
	}
	return nil
}

// workspaceBacklog is what the portals a workspace owns hold.
func (b *Quota) workspaceBacklog(ctx context.Context, wsID string) (queue.Backlog, error) {
	ps, err := b.store.Portals(ctx, wsID)
	if err != nil {
		return queue.Backlog{}, err
	}
	hubs := make([]int64, len(ps))
	for i, p := range ps {
		hubs[i] = p.HubID
	}
	return b.q.Backlog(ctx, hubs, "")
}

// usage returns the reading of key at most usageTTL old; concurrent
// requests share one read.
func (b *Quota) usage(ctx context.Context, key string, read func(context.Context) (queue.Backlog, error)) (queue.Backlog, error) {
	b.mu.Lock()
	u, ok := b.seen.Get(key)
	b.mu.Unlock()
	if ok && b.now().Sub(u.at) < usageTTL {
		return u.b, nil
	}
	v, err, _ := b.flight.Do(key, func() (any, error) {
		got, err := read(context.WithoutCancel(ctx))
		if err != nil {
			return queue.Backlog{}, err
		}
		b.mu.Lock()
		b.seen.Put(key, usageAt{b: got, at: b.now()})
		b.mu.Unlock()
		return got, nil
	})
	return v.(queue.Backlog), err
}

// Backlog is a source's and its workspace's backlog beside their quotas,
// read now, as the source page and the API show it.
type Backlog struct {
	Source         queue.Backlog `json:"source"`
	Workspace      queue.Backlog `json:"workspace"`
	SourceLimit    queue.Backlog `json:"source_limit"`
	WorkspaceLimit queue.Backlog `json:"workspace_limit"`
	OverQuota      string        `json:"over_quota,omitempty"` // why new signups are refused, if they are
}

// View reads the backlogs of src and its workspace now.
func (b *Quota) View(ctx context.Context, src tenants.Source) (Backlog, error) {
	v := Backlog{SourceLimit: b.limits.Source, WorkspaceLimit: b.limits.Workspace}
	var err error
	if v.Source, err = b.q.Backlog(ctx, src.AllPortals(), src.ID); err != nil {
		return v, err
	}
	if v.Workspace, err = b.workspaceBacklog(ctx, src.WorkspaceID); err != nil {
		return v, err
	}
	e := b.sourceOver(v.Source)
	if e == nil {
		e = b.workspaceOver(v.Workspace)
	}
	if e != nil {
		v.OverQuota = e.Error()
	}
	return v, nil
}
