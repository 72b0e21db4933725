package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/refhub/refhub/app/install"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/hubspot/hubspottest"
	"github.com/refhub/refhub/tenants"
)

// seedOpts say how portals are seeded.
type seedOpts struct {
	policy   tenants.Policy // the source's duplicate policy (default update)
	noSim    bool           // configure refhub only (the portal never calls HubSpot)
	tokenTTL time.Duration  // stored access-token lifetime (default 30 min)
}

// portal is a seeded portal and its source's webhook URL.
type portal struct {
	hub    int64
	src    tenants.Source
	url    string // webhook URL on the app it was seeded through
	access string // the access token seeded
}

// seed installs portals the way an OAuth install leaves them, without the
// browser dance: the portal and a user in the simulator with tokens issued
// directly, the installation and tokens in refhub's store, the lane
// registered, and one source. Users install 100 portals each (agencies).
func (e *env) seed(ctx context.Context, a *benchApp, hubs []int64, o seedOpts) ([]portal, error) {
	out := make([]portal, len(hubs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	var mu sync.Mutex
	for i, hub := range hubs {
		g.Go(func() error {
			p, err := e.seedOne(gctx, a, hub, o)
			mu.Lock()
			out[i] = p
			mu.Unlock()
			return err
		})
	}
	return out, g.Wait()
}

func (e *env) seedOne(ctx context.Context, a *benchApp, hub int64, o seedOpts) (portal, error) {
	user := 1_000_000 + hub/100
	email := fmt.Sprintf("admin%d@bench.test", user)
	access, refresh := fmt.Sprintf("bench-access-%d", hub), fmt.Sprintf("bench-refresh-%d", hub)
	if !o.noSim {
		e.sim.AddPortal(hubspottest.Portal{HubID: hub, Users: []hubspottest.User{{ID: user, Email: email}}})
		access, refresh = e.sim.IssueTokens(hub, user, nil)
	}
	ws, _, err := a.Store().Install(ctx, tenants.Installation{HubID: hub, Domain: fmt.Sprintf("hub-%d.example.com", hub),
		UserID: user, UserEmail: email, Scopes: install.Scopes()})
	if err != nil {
		return portal{}, fmt.Errorf("install portal %d: %w", hub, err)
	}
	ttl := o.tokenTTL
	if ttl == 0 {
		ttl = 30 * time.Minute
	}
	if err := a.Tokens().Save(ctx, hub, &hubspot.Token{AccessToken: access, RefreshToken: refresh, ExpiresIn: ttl}); err != nil {
		return portal{}, err
	}
	if err := a.Queue().Register(ctx, hub); err != nil {
		return portal{}, err
	}
	src, err := a.Store().CreateSource(ctx, ws.ID, hub, "Referral Factory")
	if err != nil {
		return portal{}, err
	}
	if o.policy != "" && o.policy != src.Mapping.OnExisting {
		src.Mapping.OnExisting = o.policy
		if src, err = a.Store().SaveSource(ctx, src); err != nil {
			return portal{}, err
		}
	}
	return portal{hub: hub, src: src, url: a.URL + hookPath(src), access: access}, nil
}

// hookPath is the path of a source's webhook URL.
func hookPath(src tenants.Source) string { return "/hooks/referral-factory/" + src.Token }
