package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/hubspot/hubspottest"
)

// hubspotSim serves the HubSpot simulator alone.
func hubspotSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hubspot-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":9090", "address to listen on")
	clientID := fs.String("client-id", "test-client-id", "the app's OAuth client id")
	clientSecret := fs.String("client-secret", "test-client-secret", "the app's OAuth client secret")
	redirects := fs.String("redirect-uri", "http://localhost:8080/oauth/callback", "allowed OAuth redirect URIs, comma-separated")
	portals := fs.Int("portals", 3, "how many test portals to create (hub ids 1001, 1002, ...)")
	rate := fs.Int("rate-limit", 110, "API calls allowed per portal per window")
	window := fs.Duration("rate-window", 10*time.Second, "the rolling rate-limit window")
	ttl := fs.Duration("token-ttl", 30*time.Minute, "access token lifetime")
	errRate := fs.Float64("error-rate", 0, "share of CRM calls answered with a 500 (0..1)")
	latency := fs.Duration("latency", 0, "latency added to every call")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim := hubspottest.New(hubspottest.Options{ClientID: *clientID, ClientSecret: *clientSecret,
		RedirectURIs: strings.Split(*redirects, ","), TokenTTL: *ttl, RateLimit: *rate, RateWindow: *window,
		RequiredScopes: install.Scopes()}) // the app as declared in hubspot-app.json
	for i := 0; i < *portals; i++ {
		hub := int64(1001 + i)
		sim.AddPortal(hubspottest.Portal{HubID: hub, Domain: fmt.Sprintf("portal-%d.hubspot.test", hub),
			Users: []hubspottest.User{{ID: 501, Email: "admin@example.test"}}})
	}
	if *errRate > 0 || *latency > 0 {
		sim.SetFaults(hubspottest.Faults{ErrorRate: *errRate, Statuses: []int{500}, Latency: *latency})
	}
	fmt.Fprintf(stdout, "HubSpot simulator on %s\n  client id %s, client secret %s\n  redirect URIs %s\n  %d portals, %d calls per %s each, tokens last %s\n"+
		"Point refhub at it with HUBSPOT_API_BASE and HUBSPOT_APP_BASE.\n",
		*addr, *clientID, *clientSecret, *redirects, *portals, *rate, *window, *ttl)
	return sim.ListenAndServe(ctx, *addr)
}
