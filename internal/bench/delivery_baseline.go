package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// singleRun is the one-upsert-per-signup baseline.
type singleRun struct {
	n             int
	whole, steady float64
	took          time.Duration
	crmCalls      int
	rateLimited   int // its 429 answers (retried)
}

// singleUpserts is what a Zapier-style integration does: one
// create-or-update call per signup, through the same HubSpot client and the
// same shared rate limiter refhub uses; a 429 is retried after HubSpot's
// delay.
func (e *env) singleUpserts(ctx context.Context, a *benchApp) (singleRun, error) {
	r := singleRun{n: e.sz.singleN}
	ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{})
	if err != nil {
		return r, err
	}
	hub := ps[0].hub
	client := hubspot.New(hubspot.Config{APIBase: e.simURL, AppBase: e.simURL, ClientID: clientID, ClientSecret: clientSecret,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, UserAgent: "per-signup-baseline"})
	api := client.Portal(hub, a.Tokens().Func(hub), ratelimit.New(a.Redis(), e.sz.limit, e.sz.window, nil))
	prefix := "single-" + strconv.FormatInt(hub, 10)
	done := make([]queue.Event, r.n)
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	t0 := time.Now()
	for range 8 {
		g.Go(func() error {
			for i := int(next.Add(1)) - 1; i < r.n; i = int(next.Add(1)) - 1 {
				if err := upsertOne(gctx, api, signupEmail(prefix, i), i); err != nil {
					return err
				}
				now := time.Now()
				done[i] = queue.Event{Status: queue.Delivered, ReceivedAt: t0, DeliveredAt: &now}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return r, err
	}
	r.whole, r.steady, r.took = rates(done, t0, e.sz.window)
	var calls map[string]int
	calls, r.crmCalls, r.rateLimited = e.hubCalls(hub, t0)
	fmt.Fprintf(e.cfg.Log, "bench:   one upsert per signup: %d in %s, %.1f/s whole run, %.1f/s steady, calls: %s\n",
		r.n, r.took.Round(time.Millisecond), r.whole, r.steady, callList(calls))
	return r, nil
}

// upsertOne creates or updates one contact, retrying on 429.
func upsertOne(ctx context.Context, api *hubspot.Portal, email string, i int) error {
	for {
		_, err := api.UpsertByEmail(ctx, []hubspot.UpsertInput{{Email: email,
			Properties: map[string]string{"email": email, "firstname": "Bench" + strconv.Itoa(i)}}})
		var rl *hubspot.RateLimitError
		if !errors.As(err, &rl) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(rl.Delay(), 100*time.Millisecond)):
		}
	}
}

// trickle sends signups one at a time (1 per second) to an idle refhub and
// returns their webhook -> contact times.
func (e *env) trickle(ctx context.Context, rep *Report, a *benchApp) ([]time.Duration, error) {
	ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{})
	if err != nil {
		return nil, err
	}
	g := newLoadGen(1, fmt.Sprintf("lone-%d", ps[0].hub), ps[0].url)
	g.keepIDs = true
	defer g.close()
	ids := map[int]string{}
	tick := time.NewTicker(e.sz.trickleEvery)
	defer tick.Stop()
	for i := range e.sz.trickleN {
		status, id, err := g.post(ctx, i)
		if err != nil || status != http.StatusAccepted {
			return nil, fmt.Errorf("signup %d: status %d: %v", i, status, err)
		}
		ids[i] = id
		<-tick.C
	}
	evs, err := e.settle(ctx, rep, a, ps[0].hub, ids, time.Minute)
	if err != nil {
		return nil, err
	}
	return latencies(evs), nil
}

func (e *env) policyRow(rep *Report, r policyRun) {
	steady := "n/a"
	if !math.IsNaN(r.steady) {
		steady = thousands(r.steady) + "/s"
	}
	if r.policy == tenants.Update {
		rep.updateShare = r.steady / r.ceiling
	}
	w := e.sz.window
	rep.add(Row{"Delivery", fmt.Sprintf("policy %s: contacts/s, steady state after the first %s window", r.policy, w),
		fmt.Sprintf("%s (whole run %s/s: %s signups in %s)", steady, thousands(r.whole), thousands(float64(r.n)), ms(r.took)),
		fmt.Sprintf("ceiling %s/s (%d calls/%s × 100 ÷ %d)", thousands(r.ceiling), e.sz.limit, w, delivery.CallsFor(r.policy)),
		ratio(r.steady, r.ceiling), e.policyLimit(r)})
}

// policyLimit says what limits a policy run, and why its whole-run rate
// differs from the steady state (or does not).
func (e *env) policyLimit(r policyRun) string {
	allowed := e.sz.window * time.Duration(delivery.CallsFor(r.policy)) / time.Duration(e.sz.limit)
	s := fmt.Sprintf("refhub's limit of %d calls per %s per portal (HubSpot's: %d)", e.sz.limit, e.sz.window, e.sz.simLimit)
	if r.roundGap > allowed*101/100 {
		s = fmt.Sprintf("the delivery engine's pace: a round every %s for this lone busy portal (its claim loop polls every 100 ms "+
			"when no webhook wakes it), just slower than the round every %s that %s allows", ms(r.roundGap), ms(allowed), s)
	}
	if r.whole > 1.05*r.steady {
		return s + "; the whole run is higher because the sliding window lets the first window burst"
	}
	return s + "; the whole run is no higher: the first window's burst is offset by the rounds after it, which come no faster than the steady state"
}

func (e *env) deliveryRows(rep *Report, runs map[tenants.Policy]policyRun, single singleRun, lone []time.Duration) {
	perContact := func(calls, n int) string { return fmt.Sprintf("%.4f", float64(calls)/float64(n)) }
	u, s, f := runs[tenants.Update], runs[tenants.Skip], runs[tenants.FillEmpty]
	rep.add(Row{"Delivery", "HubSpot calls per contact: update / skip / fill_empty (half existing)",
		perContact(u.crmCalls, u.n) + " / " + perContact(s.crmCalls, s.n) + " / " + perContact(f.crmCalls, f.n),
		fmt.Sprintf("one upsert per signup: %s (%d answered 429 and were retried)", perContact(single.crmCalls, single.n), single.rateLimited),
		fmt.Sprintf("%.0f× fewer (update)", float64(single.crmCalls)/float64(single.n)/(float64(u.crmCalls)/float64(u.n))),
		"100 contacts per batch call, plus one property listing per portal (update: " + callList(u.calls) + ")"})
	rep.add(Row{"Delivery", fmt.Sprintf("contacts/s at the same limit: refhub (update) vs one upsert per signup (%d signups)", single.n),
		thousands(u.steady) + "/s steady", fmt.Sprintf("%s/s steady (whole run %.1f/s, %s)", thousands(single.steady), single.whole, ms(single.took)),
		thousands(u.steady/single.steady) + "×", "both: the portal's rate limit; the baseline sends one contact per call"})
	rep.add(Row{"Delivery", fmt.Sprintf("webhook → contact in HubSpot, one signup every %s (%d signups): p50 / p99", e.sz.trickleEvery, e.sz.trickleN),
		ms(percentile(lone, 0.5)) + " / " + ms(percentile(lone, 0.99)), "—", "—",
		"one round: claim the lane, read it, one HubSpot call (loopback simulator), record the outcome"})
	rep.add(Row{"Delivery", fmt.Sprintf("webhook → contact at saturation (the update run's %s signups): p50 / p99", thousands(float64(u.n))),
		ms(percentile(u.lat, 0.5)) + " / " + ms(percentile(u.lat, 0.99)), "—", "—",
		fmt.Sprintf("waiting in the queue: the backlog drains at the rate limit (%s contacts/s for this portal)", thousands(u.ceiling))})
}
