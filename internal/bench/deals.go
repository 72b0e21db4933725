package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/refhub/refhub/app/deals"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

const dbDeals = 8

// setupEndpoints are the calls a portal makes once, whatever its volume:
// refhub's deal key property and the referrer label pair.
var setupEndpoints = []string{"deals.properties.create", "associations.labels.list", "associations.labels.create"}

// deals delivers referrers, then a flood of leads naming them into a
// source that makes a deal for every lead, through the webhook with
// delivery running, and counts the HubSpot calls the leads took
// (contacts, referrer links, deals); then the same done one lead at a
// time.
func (e *env) deals(ctx context.Context, rep *Report) error {
	r, single, err := e.floodAndBaseline(ctx, rep, dbDeals, e.dealsFlood, e.singleDeals)
	if err != nil {
		return err
	}
	rep.callsPerDeal = r.steadyCalls
	rep.add(Row{Section: "Deals", Name: fmt.Sprintf("HubSpot calls per lead with its referrer link and deal under load: %s leads naming %s referrers, through the webhook with delivery running",
		thousands(float64(r.n)), thousands(float64(r.refs))),
		Refhub: fmt.Sprintf("%.4f in the steady state (rounds after the first window); whole run %.4f, %.4f with the portal's %d one-time setup calls (%s)",
			r.steadyCalls, float64(r.crmCalls-r.setup)/float64(r.n), float64(r.crmCalls)/float64(r.n), r.setup, callList(r.calls)),
		Base:  fmt.Sprintf("one lead at a time: %.2f (contact upsert, referrer link, deal create with its association; %d leads)", single, e.sz.leadSingleN),
		Ratio: fmt.Sprintf("%.0f× fewer", single/rep.callsPerDeal),
		Limit: "per batch of 100 leads: one contact upsert, one referrer link batch, one deal batch create with each deal's contact association inline; once per portal: the deal key property and the label pair"})
	rep.add(e.steadyRow("Deals", "leads with deals/s, steady state after the first window", r, 3,
		"the portal's rate limit: three calls per batch of 100 leads with deals; a round reserves 4 slots (1 contact call, 2 for links and counts, 1 deal create) and uses 3 while its counts wait for the end of the burst"))
	return nil
}

// dealsFlood seeds a portal whose source makes a deal for every lead,
// delivers the referrers, then the leads, and waits until every lead is
// delivered with its deal.
func (e *env) dealsFlood(ctx context.Context, rep *Report, a *benchApp) (leadsRun, error) {
	r := leadsRun{n: e.sz.leadN, refs: e.sz.leadRefs}
	r.ceiling = float64(e.sz.limit) / e.sz.window.Seconds() * 100 / 3
	f, err := e.referrersThenLeads(ctx, rep, a, "dref", "dlead", r, func(_ int64, src *tenants.Source) {
		src.Deals = &tenants.DealSettings{CreateFor: []string{tenants.DealsForLeads}, Pipeline: "default", Stage: "appointmentscheduled",
			Name: "Referral: {first_name}", Defaults: map[string]string{"dealtype": "newbusiness"}}
	})
	if err != nil {
		return r, err
	}
	hub, src, lprefix, evs, t0 := f.hub, f.src, f.leadPrefix, f.evs, f.t0
	r.whole, r.steady, r.took = rates(evs, t0, e.sz.window)
	var limited int
	r.calls, r.crmCalls, limited = e.hubCalls(hub, t0)
	rep.RateLimited += limited
	for _, ep := range setupEndpoints {
		r.setup += r.calls[ep]
	}
	r.steadyCalls = e.steadyCallsPerLead(hub, t0, r.took)
	if got := len(e.sim.Deals(hub)); got != r.n {
		rep.Undelivered += r.n - got
		return r, fmt.Errorf("%d deals in HubSpot, want %d", got, r.n)
	}
	if err := e.checkDeal(ctx, a, hub, src.ID, lprefix); err != nil {
		return r, err
	}
	fmt.Fprintf(e.cfg.Log, "bench:   deals: %d in %s, %s/s steady (ceiling %s/s), calls: %s\n",
		r.n, r.took.Round(time.Millisecond), thousands(r.steady), thousands(r.ceiling), callList(r.calls))
	return r, nil
}

// steadyCallsPerLead is the calls per lead of the rounds that began in
// the whole windows after the first (the span rates measures the steady
// rate in): every CRM call from the first contact upsert of that span to
// the first one after it, over the leads those upserts carried. Rounds
// are whole, so the first round of a flood (which takes the few leads
// that have arrived) and the last (the rest) stay out.
func (e *env) steadyCallsPerLead(hub int64, t0 time.Time, took time.Duration) float64 {
	w := e.sz.window
	k := (took - w) / w
	from, to := t0.Add(w), t0.Add(w+k*w)
	var calls, leads int
	in := false
	for _, q := range e.sim.Requests() {
		if q.HubID != hub || !isCRM(q.Endpoint) {
			continue
		}
		if q.Endpoint == "contacts.batch.upsert" {
			in = !q.Time.Before(from) && q.Time.Before(to)
			if in {
				leads += q.Inputs
			}
		}
		if in {
			calls++
		}
	}
	if leads == 0 {
		return math.NaN()
	}
	return float64(calls) / float64(leads)
}

// checkDeal checks that lead 0's deal is named from the template and
// associated with its contact, read through HubSpot's API.
func (e *env) checkDeal(ctx context.Context, a *benchApp, hub int64, srcID, prefix string) error {
	d, ok := e.sim.DealByProperty(hub, deals.KeyProperty, deals.Key(srcID, "id:"+strconv.Itoa(2_000_000)))
	if !ok {
		return errors.New("lead 0 has no deal")
	}
	if d.Properties["dealname"] != "Referral: Lead0" {
		return fmt.Errorf("lead 0's deal is named %q", d.Properties["dealname"])
	}
	c, ok := e.sim.ContactByEmail(hub, signupEmail(prefix, 0))
	if !ok {
		return errors.New("lead 0 has no contact")
	}
	api := e.benchClient("deal-check").Portal(hub, a.Tokens().Func(hub), ratelimit.New(a.Redis(), e.sz.limit, e.sz.window, nil))
	got, err := api.ReadAssociations(ctx, hubspot.ObjectDeals, hubspot.ObjectContacts, []string{d.ID})
	if err != nil {
		return err
	}
	if len(got[d.ID]) != 1 || got[d.ID][0].ID != c.ID {
		return fmt.Errorf("lead 0's deal %s is associated with %v, want its contact %s", d.ID, got[d.ID], c.ID)
	}
	return nil
}

// singleDeals is what an integration that handles each lead on its own
// does: upsert the lead, associate it with its referrer, create its deal
// with the contact association inline — through the same HubSpot client
// and shared limiter. It returns the calls per lead.
func (e *env) singleDeals(ctx context.Context, a *benchApp) (float64, error) {
	return e.oneLeadAtATime(ctx, a, "per-lead-deal-baseline", func(int64) {}, func(api *hubspot.Portal, _ int, email, contactID, _ string) error {
		made, err := api.CreateDeals(ctx, "", []hubspot.DealCreateInput{{TraceID: "d", ContactID: contactID,
			Properties: map[string]string{"dealname": "Referral: " + email, "pipeline": "default", "dealstage": "appointmentscheduled"}}})
		if err == nil && len(made.Failed) > 0 {
			err = fmt.Errorf("deal of %s refused: %v", email, made.Failed["d"])
		}
		return err
	})
}

// benchClient is a HubSpot client of the simulator for the bench's own
// calls (baselines, checks), named by its user agent.
func (e *env) benchClient(agent string) *hubspot.Client {
	return hubspot.New(hubspot.Config{APIBase: e.simURL, AppBase: e.simURL, ClientID: clientID, ClientSecret: clientSecret,
		HTTPClient: &http.Client{Timeout: 20 * time.Second}, UserAgent: agent})
}
