// Package delivery sends queued signups to HubSpot: workers lease one
// portal's lane at a time, take what has accumulated (up to 100 events), and
// write them in as few calls as the duplicate policy allows, under the
// portal's shared rate limit. Failures are classified once: retry later
// (HubSpot down, rate limited), dead-letter the bad events (validation), or
// park the lane until the portal is reconnected.
package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// Config tunes the engine.
type Config struct {
	Workers     int           // lanes worked on at once by this process (default 16)
	BatchSize   int           // events per round (default and maximum 100)
	LeaseTTL    time.Duration // a dead worker's lane is picked up after this (default 15 s)
	RetryFor    time.Duration // give up on a failing batch after this (default 72 h)
	BackoffBase time.Duration // first retry delay (default 1 s)
	BackoffMax  time.Duration // longest retry delay (default 2 min)
	IdlePoll    time.Duration // how often an idle process looks for work (default 100 ms)
	SweepEvery  time.Duration // how often lost lane signals are repaired (default 30 s)
	Retention   time.Duration // delivered and refused events are kept this long (default 30 days)
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.BatchSize <= 0 || c.BatchSize > hubspot.MaxBatch {
		c.BatchSize = hubspot.MaxBatch
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.RetryFor <= 0 {
		c.RetryFor = 72 * time.Hour
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 2 * time.Minute
	}
	if c.IdlePoll <= 0 {
		c.IdlePoll = 100 * time.Millisecond
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 30 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = queue.DefaultRetention
	}
}

// Portals is what the engine reads and reports about portals: their
// status, that one needs to be reconnected (HubSpot refused its tokens or
// lacks a scope), and that a connected portal's parked lane is resumed.
type Portals interface {
	Portal(ctx context.Context, hubID int64) (tenants.Portal, error)
	NeedsReconnect(ctx context.Context, hubID int64, reason string)
	Refused(ctx context.Context, hubID int64, access, reason string) bool
	Resume(ctx context.Context, hubID int64) error
}

// Sources returns a source's current configuration (cached).
type Sources interface {
	Source(ctx context.Context, id string) (*tenants.Source, error)
}

// Tokens hands out access tokens and learns when HubSpot refuses one.
type Tokens interface {
	AccessToken(ctx context.Context, hubID int64) (string, error)
	Invalidate(ctx context.Context, hubID int64, failed string) error
}

// Properties returns a portal's contact property definitions (cached).
type Properties interface {
	Properties(ctx context.Context, hubID int64) (map[string]hubspot.Property, error)
}

// Engine delivers queued events.
type Engine struct {
	cfg     Config
	q       *queue.Queue
	limiter *ratelimit.Limiter
	hs      *hubspot.Client
	portals Portals
	sources Sources
	tokens  Tokens
	props   Properties
	leads   Leads
	deals   Deals
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time
	owner   string
	claims  atomic.Int64
	wake    chan struct{}
}

// Deps are the engine's collaborators.
type Deps struct {
	Queue      *queue.Queue
	Limiter    *ratelimit.Limiter
	HubSpot    *hubspot.Client
	Portals    Portals
	Sources    Sources
	Tokens     Tokens
	Properties Properties // optional
	Leads      Leads      // optional: without it leads are delivered like referrers, unlinked
	Deals      Deals      // optional: without it no deals are written
	Metrics    *Metrics   // optional
	Log        *slog.Logger
	Now        func() time.Time
}

// New returns an engine.
func New(cfg Config, d Deps) *Engine {
	cfg.defaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	return &Engine{cfg: cfg, q: d.Queue, limiter: d.Limiter, hs: d.HubSpot, portals: d.Portals,
		sources: d.Sources, tokens: d.Tokens, props: d.Properties, leads: d.Leads, deals: d.Deals, metrics: d.Metrics, log: d.Log,
		now: d.Now, owner: tenants.NewID("w"), wake: make(chan struct{}, 1)}
}

// Wake tells the engine that work arrived (from this process's ingest).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run works lanes until ctx ends, then finishes the rounds in progress.
func (e *Engine) Run(ctx context.Context) error {
	slots := make(chan struct{}, e.cfg.Workers)
	var wg sync.WaitGroup
	go e.sweepLoop(ctx)
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		lease, wait, err := e.q.Claim(ctx, e.leaseOwner(), e.cfg.LeaseTTL)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			e.log.Warn("claim lane", slog.Any("err", err))
			e.sleep(ctx, time.Second)
			continue
		}
		if lease == nil {
			<-slots
			if wait <= 0 || wait > e.cfg.IdlePoll {
				wait = e.cfg.IdlePoll
			}
			e.sleep(ctx, wait)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			e.work(context.WithoutCancel(ctx), lease)
		}()
	}
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-e.wake:
	case <-t.C:
	}
}

// leaseOwner names one claim: unique per round, so a stalled round whose
// lease was taken over cannot end the new holder's lease.
func (e *Engine) leaseOwner() string {
	return e.owner + "." + strconv.FormatInt(e.claims.Add(1), 10)
}

// sweepLoop runs the housekeeping chores: revive lanes whose signal was
// lost, resume parked lanes of portals connected again, and (one replica
// an hour) trim old activity.
func (e *Engine) sweepLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.housekeeping(ctx)
		}
	}
}

func (e *Engine) housekeeping(ctx context.Context) {
	if n, err := e.q.Sweep(ctx); err != nil {
		e.log.Warn("sweep lanes", slog.Any("err", err))
	} else if n > 0 {
		e.log.Info("revived lanes whose signal was lost", slog.Int("lanes", n))
	}
	e.unparkConnected(ctx)
	if mine, err := e.q.TakeChore(ctx, "trim", time.Hour); err == nil && mine {
		n, err := e.q.Trim(ctx, e.now().Add(-e.cfg.Retention))
		if err != nil {
			e.log.Warn("trim old activity", slog.Any("err", err))
		} else if n > 0 {
			e.log.Info("trimmed old activity", slog.Int("events", n), slog.Duration("retention", e.cfg.Retention))
		}
	}
}

// unparkConnected resumes parked lanes whose portal is connected (a
// reconnect that raced with a worker parking the lane).
func (e *Engine) unparkConnected(ctx context.Context) {
	hubs, err := e.q.ParkedLanes(ctx)
	if err != nil {
		return
	}
	for _, hub := range hubs {
		p, err := e.portals.Portal(ctx, hub)
		if err == nil && p.Status == tenants.Connected {
			if err := e.portals.Resume(ctx, hub); err == nil {
				e.log.Info("resumed a parked lane of a connected portal", slog.Int64("portal", hub))
			}
		}
	}
}

// RunOnce claims one due lane and works one round of it. It reports whether
// a lane was claimed and, when none was due, how long until the next one
// is (0: none is scheduled). Tests step the engine with it, moving a
// simulated clock by that wait.
func (e *Engine) RunOnce(ctx context.Context) (worked bool, wait time.Duration, err error) {
	lease, wait, err := e.q.Claim(ctx, e.leaseOwner(), e.cfg.LeaseTTL)
	if err != nil || lease == nil {
		return false, wait, err
	}
	e.work(ctx, lease)
	return true, 0, nil
}

// work runs one round on a leased lane, renewing the lease meanwhile, and
// ends the lease as the round decided.
func (e *Engine) work(ctx context.Context, l *queue.Lease) {
	rctx, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		e.renew(rctx, l)
	}()
	d := e.round(ctx, l.HubID)
	stop()
	<-renewed
	var err error
	switch d.mode {
	case parkLane:
		err = e.q.Park(ctx, l)
	case idleLane:
		err = e.q.Release(ctx, l)
	default:
		err = e.q.Requeue(ctx, l, d.due)
		if d.due.Sub(e.now()) < e.cfg.IdlePoll {
			e.Wake() // due before the claim loop would look again
		}
	}
	if err != nil {
		e.log.Warn("end lease", slog.Int64("portal", l.HubID), slog.Any("err", err))
	}
}

func (e *Engine) renew(ctx context.Context, l *queue.Lease) {
	t := time.NewTicker(e.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := e.q.Renew(ctx, l, e.cfg.LeaseTTL)
			if err == nil && !ok {
				e.log.Warn("lost the lease of a lane while working on it", slog.Int64("portal", l.HubID))
				return
			}
		}
	}
}

// backoff is the delay before retry attempt n (1-based): exponential with
// full jitter in its upper half, capped.
func (e *Engine) backoff(n int) time.Duration {
	d := e.cfg.BackoffBase
	for i := 1; i < n && d < e.cfg.BackoffMax; i++ {
		d *= 2
	}
	if d > e.cfg.BackoffMax {
		d = e.cfg.BackoffMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
