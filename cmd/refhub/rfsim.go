package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/refhub/refhub/app/referralfactory/rftest"
)

// rfSim serves the Referral Factory simulator alone, seeded with demo data,
// so an operator can try a backfill and qualification locally.
func rfSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rf-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9191", "address to listen on")
	referrers := fs.Int("referrers", 5, "referrers per campaign (two campaigns)")
	leads := fs.Int("leads", 3, "leads per referrer (every third lead is qualified)")
	rate := fs.Int("rate-limit", 600, "API calls allowed per token per window")
	window := fs.Duration("rate-window", time.Minute, "the rate-limit window")
	newest := fs.Bool("newest-first", false, "list users newest first (the API does not document its order)")
	hookURL := fs.String("webhook-url", "", "send every join and qualification of both campaigns to this URL, e.g. refhub's /hooks/referral-factory/{token}")
	var headers map[string]string
	fs.Func("webhook-header", `a header sent with every webhook, "Name: value" (up to 3)`, func(v string) error {
		name, value, ok := strings.Cut(v, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return errors.New(`want "Name: value"`)
		}
		if headers == nil {
			headers = map[string]string{}
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *referrers < 0 || *leads < 0 || *referrers*(*leads+1) > 100000 {
		return errors.New("rf-sim: -referrers and -leads must be >= 0 and make at most 100000 users per campaign")
	}
	opts := rftest.Options{RateLimit: *rate, RateWindow: *window, AllowHTTPWebhooks: true}
	if *newest {
		opts.Order = rftest.NewestFirst
	}
	sim := rftest.New(opts)
	ln, err := sim.Listen(*addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	demo := rftest.DemoOptions{Referrers: *referrers, LeadsPer: *leads}
	if *hookURL != "" {
		for _, ev := range []rftest.Event{rftest.EventUserJoins, rftest.EventLeadQualified} {
			demo.Webhooks = append(demo.Webhooks, rftest.Webhook{URL: *hookURL, Event: ev, Headers: headers})
		}
	}
	d, err := sim.SeedDemo(demo)
	if err != nil {
		return fmt.Errorf("rf-sim: %w", err)
	}
	sim.Wait()
	printRFSim(stdout, sim, d, opts)
	return sim.Serve(ctx, ln)
}

func printRFSim(w io.Writer, sim *rftest.Server, d rftest.Demo, opts rftest.Options) {
	fmt.Fprintf(w, "Referral Factory simulator on %s\n", sim.URL())
	fmt.Fprintf(w, "  API token (account %d): %s\n", d.Account.ID, d.Account.Token)
	fmt.Fprintf(w, "  inbound qualify URL:  %s\n", sim.InboundURL(d.Account.ID))
	for _, c := range d.Campaigns {
		fmt.Fprintf(w, "  campaign %d %q: %d users\n", c.ID, c.Name, len(sim.Users(c.ID)))
	}
	fmt.Fprintf(w, "  %d API calls per %s per token; GET /users ignores campaign_id\n", opts.RateLimit, opts.RateWindow)
	if n := len(sim.Deliveries()); n > 0 {
		ok := 0
		for _, del := range sim.Deliveries() {
			if del.Status >= 200 && del.Status < 300 {
				ok++
			}
		}
		fmt.Fprintf(w, "  outbound webhooks: %d sent, %d answered 2xx (no retries, like Referral Factory)\n", n, ok)
	}
	fmt.Fprintf(w, "Point refhub at it with REFERRAL_FACTORY_API_BASE=%s REFERRAL_FACTORY_BASE=%s\n", sim.APIBase(), sim.URL())
	fmt.Fprintf(w, "Try: curl -sS -H 'Authorization: Bearer %s' '%s/users?per_page=250&page=1'\n", d.Account.Token, sim.APIBase())
	if lead, ok := unqualifiedLead(sim, d); ok {
		fmt.Fprintf(w, "Qualify a lead (%s): curl -sS -X POST '%s' -d 'code=%s'\n", lead.Email, sim.InboundURL(d.Account.ID), lead.Code)
	}
}

// unqualifiedLead is a lead of the demo that is not yet qualified.
func unqualifiedLead(sim *rftest.Server, d rftest.Demo) (rftest.User, bool) {
	for _, c := range d.Campaigns {
		for _, u := range sim.Users(c.ID) {
			if u.Type == rftest.TypePersonInvited && u.QualifiedAt.IsZero() {
				return u, true
			}
		}
	}
	return rftest.User{}, false
}
