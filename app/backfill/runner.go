package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/tenants"
)

// maxErrors is how many calls in a row may fail (5xx, network) before a
// job gives up; they are spaced by a growing backoff (about 30 minutes in
// all).
const maxErrors = 10

// Run runs jobs until ctx ends: every Poll it looks for running jobs no
// replica holds, and runs up to Jobs of them at once, page after page,
// renewing each job's lease while a page is in flight.
func (s *Service) Run(ctx context.Context) {
	var (
		mu     sync.Mutex
		active = map[string]bool{}
		wg     sync.WaitGroup
	)
	defer wg.Wait()
	for {
		srcs, err := s.running(ctx)
		if err != nil && ctx.Err() == nil {
			s.d.Log.Warn("list running backfills", slog.Any("err", err))
		}
		for _, src := range srcs {
			mu.Lock()
			busy := active[src] || len(active) >= s.cfg.Jobs
			if !busy {
				active[src] = true
			}
			mu.Unlock()
			if busy {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(active, src); mu.Unlock() }()
				s.drive(ctx, src)
			}()
		}
		if err := sleep(ctx, s.cfg.Poll); err != nil {
			return
		}
	}
}

// drive runs one source's job page after page while this replica holds
// it; it returns when the job ends, waits long, or is held elsewhere.
func (s *Service) drive(ctx context.Context, src string) {
	for ctx.Err() == nil {
		worked, wait, err := s.Step(ctx, src)
		if err != nil {
			s.d.Log.Warn("backfill page", slog.String("source", src), slog.Any("err", err))
			return
		}
		if !worked && (wait < 0 || wait > s.cfg.Poll) {
			return // the polling loop comes back for it
		}
		if wait > 0 {
			if sleep(ctx, wait) != nil {
				return
			}
		}
	}
}

// RunOnce works one page of every running job that is due, and reports
// whether one was worked and, if none was, the shortest wait until one is
// due (0: no job runs). Tests step jobs with it on a simulated clock.
func (s *Service) RunOnce(ctx context.Context) (worked bool, wait time.Duration, err error) {
	srcs, err := s.running(ctx)
	if err != nil {
		return false, 0, err
	}
	for _, src := range srcs {
		w, d, err := s.Step(ctx, src)
		if err != nil {
			return worked, 0, err
		}
		worked = worked || w
		if !w && d > 0 && (wait == 0 || d < wait) {
			wait = d
		}
	}
	return worked, wait, nil
}

// Step claims src's job and works its next page. It reports whether a page
// was worked, else how long until the job may be claimed (negative: it no
// longer runs).
func (s *Service) Step(ctx context.Context, src string) (bool, time.Duration, error) {
	owner := s.d.Owner
	j, ok, wait, err := s.claim(ctx, src, owner)
	if err != nil || !ok {
		if wait < 0 {
			s.d.Redis.ZRem(ctx, runningKey, src) // ended: nothing to find any more
		}
		return false, wait, err
	}
	source, err := s.d.Store.Source(ctx, src)
	if errors.Is(err, tenants.ErrNotFound) {
		return false, -1, s.purge(ctx, src)
	}
	if err != nil {
		return false, 0, err
	}
	if source.RFToken == "" {
		return true, 0, s.fail(ctx, j, owner, "The source no longer holds a Referral Factory API token: start again with one.")
	}
	hb, stop := context.WithCancel(ctx)
	defer stop()
	go s.keepAlive(hb, src, owner)
	wait, err = s.page(ctx, j, &source, owner)
	if errors.Is(err, errLost) {
		return false, 0, nil // another replica carries on
	}
	return wait == 0, wait, err
}

// sleep waits d of real time, or until ctx ends: the background loops run
// on real timers (tests step jobs with RunOnce on a simulated clock).
var sleep = ratelimit.SystemClock{}.Sleep

// keepAlive renews the lease while a page is in flight.
func (s *Service) keepAlive(ctx context.Context, src, owner string) {
	for {
		if sleep(ctx, s.cfg.Lease/3) != nil {
			return
		}
		if err := s.heartbeat(ctx, src, owner); err != nil {
			return
		}
	}
}

// page reads the job's next page and queues its users. A wait (the call
// budget, a 429, a block, a failing API, a full backlog) is recorded in
// the job and returned.
func (s *Service) page(ctx context.Context, j job, src *tenants.Source, owner string) (time.Duration, error) {
	if over := s.d.Quota.Check(ctx, src); over != nil {
		return 30 * time.Second, s.wait(ctx, j, owner, "delivery: "+over.Error(), 30*time.Second, false)
	}
	w := s.window(src.RFToken)
	wait, err := w.Take(ctx)
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		what := fmt.Sprintf("Referral Factory's API limit (%d calls a minute for your account)", s.cfg.Calls*int(time.Minute)/int(s.cfg.Period))
		return wait, s.wait(ctx, j, owner, what, wait, false)
	}
	n := j.Page + 1
	pg, err := s.d.RF.Account(src.RFToken).Users(ctx, n, referralfactory.MaxPerPage)
	if err != nil {
		return s.callFailed(ctx, j, owner, w, err)
	}
	r := pageResult{page: n, read: len(pg.Users), total: pg.Meta.Total, last: !pg.HasNext()}
	if r.total < j.Done+r.read {
		r.total = j.Done + r.read
	}
	if err := s.queueUsers(ctx, j, src, pg.Users, &r); err != nil {
		return 0, err
	}
	return 0, s.commit(ctx, j, owner, r)
}

// callFailed decides what a failed API call means for the job.
func (s *Service) callFailed(ctx context.Context, j job, owner string, w *ratelimit.Window, err error) (time.Duration, error) {
	s.pauseFor(ctx, w, err) // a 429 or a block pauses every replica
	var rl *referralfactory.RateLimitError
	var bl *referralfactory.BlockedError
	var auth *referralfactory.AuthError
	switch {
	case errors.As(err, &rl):
		d := rl.Delay()
		return d, s.wait(ctx, j, owner, "Referral Factory asked to wait (429 Too Many Requests)", d, false)
	case errors.As(err, &bl):
		d := bl.Delay()
		return d, s.wait(ctx, j, owner, "Referral Factory blocked this server's IP address for abusing its API limit", d, false)
	case errors.As(err, &auth):
		return -1, s.fail(ctx, j, owner, fmt.Sprintf("Referral Factory refused the API token (%d %s). Generating a new token in Referral Factory stops the old one working: start again with the current token.",
			auth.StatusCode, auth.Message))
	}
	d, retry := referralfactory.RetryDelay(err)
	if !retry || j.Errors+1 >= maxErrors {
		return -1, s.fail(ctx, j, owner, "Referral Factory's API failed: "+err.Error())
	}
	if back := time.Duration(1<<min(j.Errors, 8)) * 10 * time.Second; d < back {
		d = back
	}
	return d, s.wait(ctx, j, owner, "Referral Factory's API, which failed ("+err.Error()+"); trying again", d, true)
}

// queueUsers builds and queues the page's users of the job's campaign,
// concurrently so the queue stores them in a few round trips. A reconcile
// queues only the people the source never delivered.
func (s *Service) queueUsers(ctx context.Context, j job, src *tenants.Source, users []referralfactory.User, r *pageResult) error {
	now := s.d.Clock.Now().UTC()
	var evs []*queue.Event
	for i := range users {
		u := &users[i]
		if j.CampaignID != 0 && u.CampaignID != j.CampaignID {
			continue // the API ignores campaign_id: the filter is ours
		}
		r.matched++
		ev, err := s.build(ctx, j, src, u, now)
		if err != nil {
			return err
		}
		if ev == nil {
			r.refused++
			continue
		}
		if !src.Sends(ev.Lead) {
			// Referral Factory keeps them; queued here they would only be
			// stored as not sent, again at every reconcile.
			r.notSent++
			continue
		}
		evs = append(evs, ev)
	}
	if j.Mode == Reconcile {
		var err error
		if evs, err = s.missing(ctx, src.ID, evs); err != nil {
			return err
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, ev := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Per job and user: a page read again after a crash is not
			// queued twice, a new job queues again.
			_, dup, err := s.d.Intake.Submit(ctx, ev, dedupeHash(j.ID, ev))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if err == nil && !dup {
				r.queued++
			}
		}()
	}
	wg.Wait()
	return first
}

// dedupeHash names a user within a job by the event built from it (hashed:
// the queue's dedupe markers hold no address).
func dedupeHash(jobID string, ev *queue.Event) string {
	sum := sha256.Sum256([]byte(jobID + "|" + strings.ToLower(ev.Email) + "|" + ev.SignedUpAt.Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:16])
}

// build makes the user an event through ingest.Build, as a webhook of the
// same user would be, stamped with its Referral Factory sign-up time. A
// user the mapping gives no email is recorded as refused in the activity
// and returns nil.
func (s *Service) build(ctx context.Context, j job, src *tenants.Source, u *referralfactory.User, now time.Time) (*queue.Event, error) {
	pl, err := payload.Parse("application/json", u.Raw, nil)
	if err != nil {
		return nil, s.refuse(ctx, j, src, src.HubID, nil, now, "Referral Factory's API sent a user refhub cannot read: "+err.Error())
	}
	ev, err := ingest.Build(src, pl, now)
	var ne *tenants.NoEmailError
	if errors.As(err, &ne) {
		return nil, s.refuse(ctx, j, src, ev.HubID, pl.Fields, now, ne.Problem)
	}
	if err != nil {
		return nil, err
	}
	ev.Origin = queue.FromBackfill
	if j.Mode == Reconcile {
		ev.Origin = queue.FromReconcile
	}
	if t, err := referralfactory.ParseTime(u.SignedUpAt); err == nil && t.Before(now) {
		ev.SignedUpAt = t.UTC()
	} else {
		ev.SignedUpAt = now // unknown: as old as the read, older than any webhook after it
	}
	return ev, nil
}

// refuse records a user that cannot become a contact in the source's
// activity, as a refused webhook would be.
func (s *Service) refuse(ctx context.Context, j job, src *tenants.Source, hub int64, fields []payload.Field, now time.Time, why string) error {
	ev := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Status: queue.Rejected,
		ReceivedAt: now, UpdatedAt: now, Payload: fields, Reason: "Not queued by the " + j.Mode + ": " + why, Code: "Unprocessable Entity"}
	return s.d.Queue.RecordRejected(ctx, ev)
}

// missing keeps the events of people the source never delivered or
// dead-lettered at the portal the event goes to.
func (s *Service) missing(ctx context.Context, src string, evs []*queue.Event) ([]*queue.Event, error) {
	byHub := map[int64][]*queue.Event{}
	for _, ev := range evs {
		byHub[ev.HubID] = append(byHub[ev.HubID], ev)
	}
	var out []*queue.Event
	for hub, group := range byHub {
		hashes := make([]string, len(group))
		for i, ev := range group {
			hashes[i] = queue.EmailHash(ev.Email)
		}
		known, err := s.d.Queue.Known(ctx, hub, src, hashes)
		if err != nil {
			return nil, err
		}
		for i, ev := range group {
			if !known[i] {
				out = append(out, ev)
			}
		}
	}
	return out, nil
}
