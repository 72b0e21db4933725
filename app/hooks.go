package app

import (
	"context"

	"github.com/refhub/refhub/app/hshooks"
	"github.com/refhub/refhub/app/leads"
	"github.com/refhub/refhub/app/privacy"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/app/ratelimit"
	"github.com/refhub/refhub/app/referralfactory"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// wireHooks builds what HubSpot's webhooks drive: the receiver and its
// inbox, qualification at Referral Factory, and privacy deletions.
func (a *App) wireHooks(hs *hubspot.Client, vault *oauth.Vault, rf *referralfactory.Client,
	limiter *ratelimit.Limiter, props *properties.Cache) *qualify.Settings {
	now := a.opts.Clock.Now
	var leads qualify.Leads = leadFinder{a.leads}
	if a.opts.Leads != nil {
		leads = a.opts.Leads
	}
	deals := qualify.HubSpotDeals{HubSpot: hs, Tokens: a.tokens, Limiter: limiter}
	a.rules = qualify.NewRules(a.rdb, vault, rf, now)
	a.qualifier = qualify.NewSender(qualify.Deps{Redis: a.rdb, Rules: a.rules, Leads: leads, Deals: deals, RF: rf,
		Queue: a.queue, Log: a.log, Now: now, RetryFor: a.cfg.RetryFor, Registry: a.registry})
	keepers := []privacy.Keeper{a.qualifier}
	if k, ok := leads.(privacy.Keeper); ok {
		keepers = append(keepers, k)
	}
	a.privacy = &privacy.Service{Redis: a.rdb, Store: a.store, Queue: a.queue, Keepers: keepers, Log: a.log, Now: now}
	m := hshooks.NewMetrics(a.registry)
	a.inbox = hshooks.NewInbox(a.rdb, tenants.NewID("replica"), []hshooks.Handler{a.privacy, a.qualifier}, m, a.log)
	a.hooks = hshooks.NewReceiver(hshooks.Deps{Inbox: a.inbox, Portals: a.store, ClientSecret: a.cfg.ClientSecret,
		PublicURL: a.cfg.PublicURL, Metrics: m, Log: a.log, Now: now})
	return &qualify.Settings{Rules: a.rules, Sender: a.qualifier, Portals: a.store, Pipelines: deals, Properties: props}
}

// leadFinder gives qualification the leads app/leads delivered, and
// privacy what it keeps about a person (Forget, promoted).
type leadFinder struct{ *leads.Service }

func (l leadFinder) ByContact(ctx context.Context, hub int64, contactID string) (qualify.Lead, bool, error) {
	x, ok, err := l.Service.ByContact(ctx, hub, contactID)
	return qualify.Lead{Source: x.Source, Code: x.Code, Email: x.Email, ContactID: x.ContactID, Referrer: x.Referrer}, ok, err
}

// HubSpotInbox returns the store of HubSpot's webhook events (tests drain
// it directly).
func (a *App) HubSpotInbox() *hshooks.Inbox { return a.inbox }

// Qualifier returns the sender of qualifications (tests step it directly).
func (a *App) Qualifier() *qualify.Sender { return a.qualifier }

// What the rooms are given satisfies the small interfaces they declare.
var (
	_ hshooks.Handler = (*privacy.Service)(nil)
	_ hshooks.Handler = (*qualify.Sender)(nil)
	_ privacy.Keeper  = (*qualify.Sender)(nil)
	_ privacy.Store   = (*tenants.RedisStore)(nil)
	_ hshooks.Portals = (*tenants.RedisStore)(nil)
	_ qualify.Leads   = leadFinder{}
	_ privacy.Keeper  = leadFinder{}
)
