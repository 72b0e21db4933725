package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/refhub/refhub/app/delivery"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/tenants"
)

// policyRun is one flood of signups to one portal under one policy.
type policyRun struct {
	policy        tenants.Policy
	n             int
	ceiling       float64 // contacts/s refhub's limit allows
	whole, steady float64 // contacts/s over the run, and after the first window
	took          time.Duration
	calls         map[string]int // HubSpot CRM calls by endpoint
	crmCalls      int
	lat           []time.Duration // received -> delivered, sorted
	roundGap      time.Duration   // median time between rounds after the first window
}

// delivery floods one portal per duplicate policy with a backlog of a few
// windows' worth of signups, with the simulator enforcing HubSpot's limit,
// and compares the rate with the ceiling refhub's limit allows; then the
// one-upsert-per-signup baseline and the latency of a lone signup.
func (e *env) delivery(ctx context.Context, rep *Report) error {
	if err := e.flush(ctx, dbDelivery); err != nil {
		return err
	}
	a, err := e.startApp(dbDelivery, 16)
	if err != nil {
		return err
	}
	defer a.close()
	a.startWorkers()
	runs := map[tenants.Policy]policyRun{}
	for _, p := range []tenants.Policy{tenants.Update, tenants.Skip, tenants.FillEmpty} {
		r, err := e.policyRun(ctx, rep, a, p)
		if err != nil {
			return fmt.Errorf("policy %s: %w", p, err)
		}
		runs[p] = r
		e.policyRow(rep, r)
	}
	single, err := e.singleUpserts(ctx, a)
	if err != nil {
		return fmt.Errorf("one-upsert-per-signup baseline: %w", err)
	}
	lone, err := e.trickle(ctx, rep, a)
	if err != nil {
		return fmt.Errorf("latency at 1 signup/s: %w", err)
	}
	e.deliveryRows(rep, runs, single, lone)
	return nil
}

// policyRun posts the backlog through the webhook with delivery running
// and waits until every signup is delivered.
func (e *env) policyRun(ctx context.Context, rep *Report, a *benchApp, policy tenants.Policy) (policyRun, error) {
	r := policyRun{policy: policy}
	r.ceiling = float64(e.sz.limit) / e.sz.window.Seconds() * 100 / float64(delivery.CallsFor(policy))
	r.n = int(e.sz.backlog * r.ceiling * e.sz.window.Seconds())
	ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{policy: policy})
	if err != nil {
		return r, err
	}
	hub := ps[0].hub
	prefix := fmt.Sprintf("%s-%d", policy, hub)
	if policy != tenants.Update {
		// Half of the emails exist already, with the mapped fields empty
		// (so fill_empty needs its third call).
		for i := 0; i < r.n; i += 2 {
			e.sim.SeedContact(hub, map[string]string{"email": signupEmail(prefix, i)})
		}
	}
	g := newLoadGen(e.sz.ingestConns, prefix, ps[0].url)
	g.keepIDs = true
	defer g.close()
	t0 := time.Now()
	res := g.count(ctx, e.sz.ingestConns, r.n)
	if res.accepted != r.n {
		return r, fmt.Errorf("%d of %d signups accepted (%v)", res.accepted, r.n, res.statuses)
	}
	evs, err := e.settle(ctx, rep, a, hub, res.ids, time.Duration(float64(r.n)/r.ceiling*3*float64(time.Second))+time.Minute)
	if err != nil {
		return r, err
	}
	r.whole, r.steady, r.took = rates(evs, t0, e.sz.window)
	r.lat = latencies(evs)
	r.roundGap = e.roundGap(hub, t0.Add(e.sz.window), t0.Add(r.took), policy)
	var limited int
	r.calls, r.crmCalls, limited = e.hubCalls(hub, t0)
	rep.RateLimited += limited
	if got := len(e.sim.Contacts(hub)); got != r.n {
		rep.Undelivered += r.n - got
		return r, fmt.Errorf("%d contacts in HubSpot, want %d", got, r.n)
	}
	fmt.Fprintf(e.cfg.Log, "bench:   %s: %d signups in %s, %s/s whole run, %s/s steady (ceiling %s/s), calls: %s\n",
		policy, r.n, r.took.Round(time.Millisecond), thousands(r.whole), thousands(r.steady), thousands(r.ceiling), callList(r.calls))
	return r, nil
}

// roundGap is the median time between the portal's delivery rounds
// (their first HubSpot call) in [from, to).
func (e *env) roundGap(hub int64, from, to time.Time, policy tenants.Policy) time.Duration {
	first := "contacts.batch.upsert"
	if policy != tenants.Update {
		first = "contacts.batch.read"
	}
	var gaps []time.Duration
	var last time.Time
	for _, r := range e.sim.Requests() {
		if r.HubID != hub || r.Endpoint != first || r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		if !last.IsZero() {
			gaps = append(gaps, r.Time.Sub(last))
		}
		last = r.Time
	}
	slices.Sort(gaps)
	return percentile(gaps, 0.5)
}

// settle waits until the portal's lane is empty, then returns the events
// of ids and counts those that are not delivered.
func (e *env) settle(ctx context.Context, rep *Report, a *benchApp, hub int64, ids map[int]string, timeout time.Duration) ([]queue.Event, error) {
	err := waitUntil(ctx, timeout, func() (bool, error) {
		d, err := a.Queue().Depth(ctx, hub)
		return d == 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("portal %d: lane not drained: %w", hub, err)
	}
	evs, err := fetchEvents(ctx, a.Queue(), hub, ids)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ev.Status == queue.Delivered && ev.DeliveredAt != nil {
			rep.Delivered++
		} else {
			rep.Undelivered++
		}
	}
	return evs, nil
}

// fetchEvents reads events by id.
func fetchEvents(ctx context.Context, q *queue.Queue, hub int64, ids map[int]string) ([]queue.Event, error) {
	out := make([]queue.Event, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	k := 0
	for _, id := range ids {
		i := k
		g.Go(func() (err error) { out[i], err = q.Event(gctx, hub, id); return err })
		k++
	}
	return out, g.Wait()
}

// rates are contacts/s over the whole run (first signup sent to last
// delivered) and in the steady state: the whole windows after the first,
// whose burst the sliding window allows.
func rates(evs []queue.Event, t0 time.Time, window time.Duration) (whole, steady float64, took time.Duration) {
	var last time.Time
	for _, ev := range evs {
		if ev.DeliveredAt != nil && ev.DeliveredAt.After(last) {
			last = *ev.DeliveredAt
		}
	}
	took = last.Sub(t0)
	whole = float64(len(evs)) / took.Seconds()
	k := math.Floor((took - window).Seconds() / window.Seconds())
	if k < 1 {
		return whole, math.NaN(), took
	}
	from, to := t0.Add(window), t0.Add(window+time.Duration(k)*window)
	n := 0
	for _, ev := range evs {
		if at := ev.DeliveredAt; at != nil && !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return whole, float64(n) / to.Sub(from).Seconds(), took
}

// latencies are the events' received -> delivered times, sorted.
func latencies(evs []queue.Event) []time.Duration {
	out := make([]time.Duration, 0, len(evs))
	for _, ev := range evs {
		if ev.DeliveredAt != nil {
			out = append(out, ev.DeliveredAt.Sub(ev.ReceivedAt))
		}
	}
	slices.Sort(out)
	return out
}

// hubCalls counts the CRM calls the simulator received for a portal since
// t0, in all and by endpoint, and its 429 answers.
func (e *env) hubCalls(hub int64, t0 time.Time) (calls map[string]int, total, limited int) {
	calls = map[string]int{}
	for _, r := range e.sim.Requests() {
		if r.HubID != hub || r.Time.Before(t0) || !isCRM(r.Endpoint) {
			continue
		}
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
		calls[r.Endpoint]++
		total++
	}
	return calls, total, limited
}

func isCRM(endpoint string) bool {
	return strings.HasPrefix(endpoint, "contacts.") || strings.HasPrefix(endpoint, "properties.") ||
		strings.HasPrefix(endpoint, "groups.") || strings.HasPrefix(endpoint, "associations.") ||
		strings.HasPrefix(endpoint, "deals.") || strings.HasPrefix(endpoint, "pipelines.")
}

// waitUntil polls cond every 20 ms until it holds or timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out after " + timeout.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
