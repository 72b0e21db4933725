package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/tenants"
)

const dbLeads = 7

// referrerBody is referrer i as Referral Factory posts "A new referrer
// joins".
func referrerBody(prefix string, i int) []byte {
	n := strconv.Itoa(i)
	return []byte(`{"id":` + strconv.Itoa(1_000_000+i) + `,"campaign_id":7,"referrer_id":null,"code":"` + prefix + n +
		`","first_name":"Ref` + n + `","email":"` + signupEmail(prefix, i) +
		`","source":"Direct","type":"person_referring","referrals_count":0,"converted_referrals_count":0}`)
}

// leadBody is lead i as Referral Factory posts "A new lead is created",
// naming referrer ref by its user id.
func leadBody(prefix string, i, ref int) []byte {
	n := strconv.Itoa(i)
	return []byte(`{"id":` + strconv.Itoa(2_000_000+i) + `,"campaign_id":7,"referrer_id":` + strconv.Itoa(1_000_000+ref) +
		`,"code":"` + prefix + n + `","first_name":"Lead` + n + `","email":"` + signupEmail(prefix, i) +
		`","source":"Referred","type":"person_invited","referrals_count":0,"converted_referrals_count":0}`)
}

// leadsRun is a flood of leads.
type leadsRun struct {
	n, refs       int
	calls         map[string]int
	crmCalls      int
	setup         int     // calls the portal makes once, whatever its volume
	steadyCalls   float64 // calls per lead of the rounds in the steady state
	whole, steady float64
	took          time.Duration
	ceiling       float64
}

// steadyRow is the row of a flood's steady rate against the ceiling the
// rate limit allows at calls per batch of 100.
func (e *env) steadyRow(section, name string, r leadsRun, calls int, limit string) Row {
	return Row{Section: section, Name: name,
		Refhub: fmt.Sprintf("%s/s (whole run %s/s: %s leads in %s)", thousands(r.steady), thousands(r.whole), thousands(float64(r.n)), ms(r.took)),
		Base:   fmt.Sprintf("ceiling %s/s (%d calls/%s × 100 ÷ %d)", thousands(r.ceiling), e.sz.limit, e.sz.window, calls),
		Ratio:  fmt.Sprintf("%.2f", r.steady/r.ceiling),
		Limit:  limit}
}

// floodAndBaseline starts an app with delivery running on its own
// database, runs flood through it, then the one-lead-at-a-time baseline
// single (its calls per lead).
func (e *env) floodAndBaseline(ctx context.Context, rep *Report, db int,
	flood func(context.Context, *Report, *benchApp) (leadsRun, error),
	single func(context.Context, *benchApp) (float64, error)) (leadsRun, float64, error) {
	if err := e.flush(ctx, db); err != nil {
		return leadsRun{}, 0, err
	}
	a, err := e.startApp(db, 16)
	if err != nil {
		return leadsRun{}, 0, err
	}
	defer a.close()
	a.startWorkers()
	r, err := flood(ctx, rep, a)
	if err != nil {
		return r, 0, err
	}
	base, err := single(ctx, a)
	if err != nil {
		return r, 0, fmt.Errorf("one-lead-at-a-time baseline: %w", err)
	}
	return r, base, nil
}

// leads delivers referrers, then a flood of leads naming them through the
// webhook with delivery running, and counts the HubSpot calls the leads
// took (contacts, associations, counts); then the same done one lead at a
// time.
func (e *env) leads(ctx context.Context, rep *Report) error {
	r, single, err := e.floodAndBaseline(ctx, rep, dbLeads, e.leadsFlood, e.singleLeads)
	if err != nil {
		return err
	}
	rep.callsPerLead = float64(r.crmCalls) / float64(r.n)
	rep.add(Row{Section: "Leads", Name: fmt.Sprintf("HubSpot calls per lead under load: %s leads naming %s referrers, through the webhook with delivery running",
		thousands(float64(r.n)), thousands(float64(r.refs))),
		Refhub: fmt.Sprintf("%.4f (%s)", rep.callsPerLead, callList(r.calls)),
		Base:   fmt.Sprintf("one lead at a time: %.2f (upsert, association, count update; %d leads)", single, e.sz.leadSingleN),
		Ratio:  fmt.Sprintf("%.0f× fewer", single/rep.callsPerLead),
		Limit:  "per batch of 100 leads: one upsert, one association batch create; the referrers' counts are written once a burst ends (one update per 100 referrers); the label pair is looked up once per portal"})
	rep.add(e.steadyRow("Leads", "leads/s, steady state after the first window", r, 2,
		"the portal's rate limit: two calls per batch of 100 leads under load"))
	return nil
}

// leadsFlood seeds a portal whose source maps the referral counts,
// delivers the referrers, then the leads, and waits until every lead is
// delivered and every count written.
func (e *env) leadsFlood(ctx context.Context, rep *Report, a *benchApp) (leadsRun, error) {
	r := leadsRun{n: e.sz.leadN, refs: e.sz.leadRefs}
	r.ceiling = float64(e.sz.limit) / e.sz.window.Seconds() * 100 / 2
	f, err := e.referrersThenLeads(ctx, rep, a, "ref", "lead", r, func(hub int64, src *tenants.Source) {
		for _, name := range []string{"rf_referral_count", "rf_converted_referral_count"} {
			e.sim.AddProperty(hub, hubspottest.Property{Name: name, Label: name, Type: "number", FieldType: "number", GroupName: "contactinformation"})
		}
		src.Mapping.Fields = append(src.Mapping.Fields, tenants.FieldMap{From: "referrals_count", To: "rf_referral_count"},
			tenants.FieldMap{From: "converted_referrals_count", To: "rf_converted_referral_count"})
	})
	if err != nil {
		return r, err
	}
	hub, prefix, evs, t0 := f.hub, f.refPrefix, f.evs, f.t0
	if err := waitUntil(ctx, time.Minute, func() (bool, error) {
		dirty, err := a.Leads().HasCountsToWrite(ctx, hub)
		return !dirty, err
	}); err != nil {
		return r, fmt.Errorf("referral counts not written: %w", err)
	}
	r.whole, r.steady, r.took = rates(evs, t0, e.sz.window)
	var limited int
	r.calls, r.crmCalls, limited = e.hubCalls(hub, t0)
	rep.RateLimited += limited
	if got := len(e.sim.Contacts(hub)); got != r.refs+r.n {
		rep.Undelivered += r.refs + r.n - got
		return r, fmt.Errorf("%d contacts in HubSpot, want %d", got, r.refs+r.n)
	}
	ref, _ := e.sim.ContactByEmail(hub, signupEmail(prefix, 0))
	if want := strconv.Itoa((r.n + r.refs - 1) / r.refs); ref.Properties["rf_referral_count"] != want {
		return r, fmt.Errorf("referrer 0 has referral count %q, want %s", ref.Properties["rf_referral_count"], want)
	}
	fmt.Fprintf(e.cfg.Log, "bench:   leads: %d in %s, %s/s steady (ceiling %s/s), calls: %s\n",
		r.n, r.took.Round(time.Millisecond), thousands(r.steady), thousands(r.ceiling), callList(r.calls))
	return r, nil
}

// singleLeads is what an integration that handles each lead on its own
// does: upsert the lead, associate it with its referrer, write the
// referrer's count — through the same HubSpot client and shared limiter.
// It returns the calls per lead.
func (e *env) singleLeads(ctx context.Context, a *benchApp) (float64, error) {
	return e.oneLeadAtATime(ctx, a, "per-lead-baseline", func(hub int64) {
		e.sim.AddProperty(hub, hubspottest.Property{Name: "rf_referral_count", Label: "count", Type: "number", FieldType: "number", GroupName: "contactinformation"})
	}, func(api *hubspot.Portal, i int, _, _, refID string) error {
		_, _, err := api.Update(ctx, []hubspot.UpdateInput{{ID: refID, Properties: map[string]string{"rf_referral_count": strconv.Itoa(i + 1)}}})
		return err
	})
}

// oneLeadAtATime is the baseline of an integration handling each lead on
// its own, in a fresh portal (prepare adjusts it) through the same HubSpot
// client and shared limiter as refhub: per lead, upsert it, associate it
// with its referrer, then do what then does (e.g. write a count, create a deal). It
// returns the calls per lead.
func (e *env) oneLeadAtATime(ctx context.Context, a *benchApp, agent string, prepare func(hub int64),
	then func(api *hubspot.Portal, i int, email, contactID, refID string) error) (float64, error) {
	ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{})
	if err != nil {
		return 0, err
	}
	hub := ps[0].hub
	prepare(hub)
	api := e.benchClient(agent).Portal(hub, a.Tokens().Func(hub), ratelimit.New(a.Redis(), e.sz.limit, e.sz.window, nil))
	prefix := agent + "-" + strconv.FormatInt(hub, 10)
	ref, err := api.UpsertByEmail(ctx, []hubspot.UpsertInput{{Email: prefix + "-ref@example.com", Properties: map[string]string{"email": prefix + "-ref@example.com"}}})
	if err != nil {
		return 0, err
	}
	refID := ref.Contacts[prefix+"-ref@example.com"].ID
	pair, err := api.EnsureAssociationLabel(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts, leads.Label)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	for i := range e.sz.leadSingleN {
		email := signupEmail(prefix, i)
		res, err := api.UpsertByEmail(ctx, []hubspot.UpsertInput{{Email: email, Properties: map[string]string{"email": email}}})
		if err != nil {
			return 0, err
		}
		contactID := res.Contacts[email].ID
		if _, err := api.CreateAssociations(ctx, hubspot.ObjectContacts, hubspot.ObjectContacts,
			[]hubspot.AssociationInput{{FromID: contactID, ToID: refID, Types: []hubspot.AssociationType{pair.Forward}}}); err != nil {
			return 0, err
		}
		if err := then(api, i, email, contactID, refID); err != nil {
			return 0, err
		}
	}
	_, total, limited := e.hubCalls(hub, t0)
	if limited > 0 {
		return 0, errors.New("HubSpot answered 429 to the one-lead-at-a-time baseline")
	}
	return float64(total) / float64(e.sz.leadSingleN), nil
}

// flood is what referrersThenLeads delivered: the portal, the prefixes
// of the referrers' and leads' emails, the leads' events and when the
// first lead was sent.
type flood struct {
	hub                   int64
	src                   tenants.Source
	refPrefix, leadPrefix string
	evs                   []queue.Event
	t0                    time.Time
}

// referrersThenLeads seeds a portal whose source configure adjusts, posts
// r.refs referrers to its webhook and waits until they are delivered,
// then posts r.n leads naming them round-robin and waits until the leads
// are delivered (the lane is empty), allowing three times the time the
// ceiling (leads/s) needs.
func (e *env) referrersThenLeads(ctx context.Context, rep *Report, a *benchApp, refName, leadName string, r leadsRun,
	configure func(hub int64, src *tenants.Source)) (flood, error) {
	ps, err := e.seed(ctx, a, e.newHubs(1), seedOpts{})
	if err != nil {
		return flood{}, err
	}
	p := ps[0]
	f := flood{hub: p.hub, src: p.src, refPrefix: fmt.Sprintf("%s-%d", refName, p.hub), leadPrefix: fmt.Sprintf("%s-%d", leadName, p.hub)}
	configure(p.hub, &f.src)
	if f.src, err = a.Store().SaveSource(ctx, f.src); err != nil {
		return f, err
	}
	g := newLoadGen(e.sz.ingestConns, f.refPrefix, p.url)
	g.keepIDs, g.body = true, func(i int) []byte { return referrerBody(f.refPrefix, i) }
	res := g.count(ctx, e.sz.ingestConns, r.refs)
	g.close()
	if res.accepted != r.refs {
		return f, fmt.Errorf("%d of %d referrers accepted (%v)", res.accepted, r.refs, res.statuses)
	}
	if _, err := e.settle(ctx, rep, a, p.hub, res.ids, time.Minute); err != nil {
		return f, err
	}
	g = newLoadGen(e.sz.ingestConns, f.leadPrefix, p.url)
	g.keepIDs, g.body = true, func(i int) []byte { return leadBody(f.leadPrefix, i, i%r.refs) }
	defer g.close()
	f.t0 = time.Now()
	res = g.count(ctx, e.sz.ingestConns, r.n)
	if res.accepted != r.n {
		return f, fmt.Errorf("%d of %d leads accepted (%v)", res.accepted, r.n, res.statuses)
	}
	f.evs, err = e.settle(ctx, rep, a, p.hub, res.ids, time.Duration(float64(r.n)/r.ceiling*3*float64(time.Second))+time.Minute)
	return f, err
}
