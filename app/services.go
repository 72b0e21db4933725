package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// The operations below are shared by the JSON API and the settings pages:
// handlers parse input, call one of these, and render. Every one acts on
// resources already authorized against the caller's workspace.

func containsHub(hubs []int64, h int64) bool {
	for _, x := range hubs {
		if x == h {
			return true
		}
	}
	return false
}

// filterPortals keeps portals whose domain or hub id contains q, sorted by
// domain.
func filterPortals(ps []tenants.Portal, q string) []tenants.Portal {
	q = strings.ToLower(strings.TrimSpace(q))
	var kept []tenants.Portal
	for _, p := range ps {
		if q == "" || strings.Contains(strings.ToLower(p.Domain), q) || strings.Contains(fmt.Sprint(p.HubID), q) {
			kept = append(kept, p)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Domain < kept[j].Domain })
	return kept
}

// pageOf returns page (from 1) of items, perPage at a time: empty past the
// last page, whatever the page number (no product that could overflow).
func pageOf[T any](items []T, page, perPage int) []T {
	if page < 1 || perPage < 1 || page-1 > len(items)/perPage {
		return nil
	}
	start := (page - 1) * perPage
	return items[start:min(start+perPage, len(items))]
}

// disconnectPortal revokes the portal's refresh token at HubSpot and stops
// delivery; configuration, queued events and activity are kept for a
// reconnect (the next install of the portal).
func (a *App) disconnectPortal(ctx context.Context, p tenants.Portal) (tenants.Portal, error) {
	a.revokeAtHubSpot(ctx, p.HubID)
	if err := a.tokens.Delete(ctx, p.HubID); err != nil {
		return p, err
	}
	return a.store.SetPortalStatus(ctx, p.HubID, tenants.Disconnected,
		"Disconnected in refhub: signups are kept and delivered after the portal is connected again.")
}

// revokeAtHubSpot revokes the stored refresh token; failures are logged
// (the token is deleted from refhub either way).
func (a *App) revokeAtHubSpot(ctx context.Context, hub int64) {
	rt, err := a.tokens.RefreshToken(ctx, hub)
	if err != nil {
		return
	}
	a.revokeRefreshToken(ctx, hub, rt)
}

// revokeRefreshToken revokes a portal's refresh token at HubSpot, logging a
// failure.
func (a *App) revokeRefreshToken(ctx context.Context, hub int64, refreshToken string) {
	if err := a.hs.Revoke(ctx, refreshToken, "refresh_token"); err != nil {
		a.log.Warn("revoke refresh token at HubSpot", slog.Int64("portal", hub), slog.Any("err", err))
	}
}

// deletePortal removes a portal from refhub: its tokens (revoked at
// HubSpot), queued events, activity, dead letters, the sources whose
// default portal it is, and every reference other sources hold to it
// (routes, past portals).
func (a *App) deletePortal(ctx context.Context, p tenants.Portal) error {
	a.revokeAtHubSpot(ctx, p.HubID)
	if err := a.tokens.Delete(ctx, p.HubID); err != nil {
		return err
	}
	srcs, err := a.store.Sources(ctx, p.WorkspaceID)
	if err != nil {
		return err
	}
	var touched []string
	for _, s := range srcs {
		if !containsHub(s.AllPortals(), p.HubID) {
			continue
		}
		touched = append(touched, s.ID)
		if s.HubID == p.HubID {
			if err := a.deleteSource(ctx, s); err != nil {
				return err
			}
			continue
		}
		if _, err := a.sources.DropPortal(ctx, s, p.HubID); err != nil {
			return err
		}
	}
	if err := a.queue.PurgePortal(ctx, p.HubID, touched); err != nil {
		return err
	}
	if err := a.limiter.Purge(ctx, p.HubID); err != nil {
		return err
	}
	a.props.Drop(ctx, p.HubID)
	return a.store.DeletePortal(ctx, p)
}

// deleteSource removes a source and its webhook URL; its activity and dead
// letters go with it.
func (a *App) deleteSource(ctx context.Context, src tenants.Source) error {
	if err := a.sources.Delete(ctx, src); err != nil {
		return err
	}
	a.rdb.Del(ctx, testCounterKey(src.ID))
	return a.queue.PurgeSource(ctx, src.AllPortals(), src.ID)
}

// saveRoutes replaces a source's campaign routes after checking each route's
// portal belongs to the workspace and its mapping is valid.
func (a *App) saveRoutes(ctx context.Context, src tenants.Source, routes []tenants.Route) (tenants.Source, error) {
	seen := map[string]bool{}
	for i, r := range routes {
		r.CampaignID = strings.TrimSpace(r.CampaignID)
		if r.CampaignID == "" || len(r.CampaignID) > 64 {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: give the Referral Factory campaign id", i+1))
		}
		if seen[r.CampaignID] {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: campaign %s is routed twice", i+1, r.CampaignID))
		}
		seen[r.CampaignID] = true
		if _, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, r.HubID); err != nil {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: portal %d is not connected to this workspace", i+1, r.HubID))
		}
		if r.Mapping.OnExisting == "" {
			r.Mapping.OnExisting = tenants.Update
		}
		if r.Mapping.Defaults == nil {
			r.Mapping.Defaults = map[string]string{}
		}
		if err := r.Mapping.Validate(); err != nil {
			return src, apperr.New(apperr.Unprocessable, fmt.Sprintf("route %d: %v", i+1, err))
		}
		routes[i] = r
	}
	src.Routes = routes
	saved, err := a.sources.Save(ctx, src)
	if err != nil {
		return src, err
	}
	for _, h := range saved.Portals() {
		if err := a.queue.Register(ctx, h); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// lastPayload returns the newest signup Referral Factory sent to a source
// (test signups excluded), or nil.
func (a *App) lastPayload(ctx context.Context, src tenants.Source) (*queue.Event, error) {
	evs, err := a.queue.Activity(ctx, src.AllPortals(), src.ID, queue.Filter{Limit: 20})
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if !evs[i].Test && len(evs[i].Payload) > 0 {
			return &evs[i], nil
		}
	}
	return nil, nil
}

// findEvent returns one of a source's events by id.
func (a *App) findEvent(ctx context.Context, src tenants.Source, id string) (queue.Event, error) {
	for _, hub := range src.AllPortals() {
		ev, err := a.queue.Event(ctx, hub, id)
		if err == nil && ev.SourceID == src.ID {
			return ev, nil
		}
		if err != nil && !errors.Is(err, tenants.ErrNotFound) {
			return ev, err
		}
	}
	return queue.Event{}, apperr.New(apperr.NotFound, "no such event")
}

// retryEvent sends one event again: a dead letter is queued again; a
// signup refused at the webhook (for example for want of an email) is
// mapped again with the source's current mapping and queued if it now
// passes.
func (a *App) retryEvent(ctx context.Context, src tenants.Source, id string) (queue.Event, error) {
	ev, err := a.findEvent(ctx, src, id)
	if err != nil {
		return ev, err
	}
	switch ev.Status {
	case queue.Failed:
		if _, err := a.queue.Replay(ctx, []int64{ev.HubID}, src.ID, []string{ev.ID}); err != nil {
			return ev, err
		}
		a.engine.Wake()
		return a.queue.Event(ctx, ev.HubID, ev.ID)
	case queue.Rejected:
		if len(ev.Payload) == 0 {
			return ev, apperr.New(apperr.Unprocessable, "this request had no readable signup data to send again")
		}
		pl := payload.New(ev.Payload)
		campaign, _ := pl.Get("campaign_id")
		hub, mapping, route := src.Route(campaign)
		props, err := mapping.Apply(pl)
		if err != nil {
			return ev, apperr.New(apperr.Unprocessable, "still refused with the current mapping: "+strings.TrimPrefix(err.Error(), "no email: "))
		}
		now := a.now().UTC()
		fresh := &queue.Event{ID: queue.NewEventID(now), SourceID: src.ID, HubID: hub, Route: route, Email: props["email"],
			Status: queue.Queued, ReceivedAt: now, UpdatedAt: now, Payload: ev.Payload, Replays: 1}
		if _, _, err := a.queue.Enqueue(ctx, fresh, "retry:"+ev.ID); err != nil {
			return ev, err
		}
		a.engine.Wake()
		return *fresh, nil
	}
	return ev, apperr.New(apperr.Conflict, "only failed or refused signups can be retried; this one is "+string(ev.Status))
}

// portalProperties lists a portal's contact properties, writable ones
// first by label; refresh bypasses the cache.
func (a *App) portalProperties(ctx context.Context, hub int64, refresh bool) ([]properties.View, error) {
	list, err := a.props.List(ctx, hub, refresh)
	if err != nil {
		return nil, a.hubspotProblem(ctx, hub, err)
	}
	return properties.Views(list), nil
}

// hubspotProblem turns a HubSpot failure for a portal into an error for
// the admin; tokens HubSpot refused mark the portal needs_reconnect.
func (a *App) hubspotProblem(ctx context.Context, hub int64, err error) error {
	var re *oauth.ReconnectError
	if errors.As(err, &re) && re.Revoked {
		enginePortals{a}.NeedsReconnect(ctx, hub, re.Reason)
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) || isReconnect(err) {
		return &apperr.Error{Code: apperr.Upstream, Message: "HubSpot did not answer as expected: " + err.Error(), Err: err}
	}
	return err
}

// isReconnect reports whether err means the portal must be installed again.
func isReconnect(err error) bool {
	var re *oauth.ReconnectError
	return errors.As(err, &re)
}

// saveMapping stores m as the default mapping (idx -1) or a route's.
func (a *App) saveMapping(ctx context.Context, src tenants.Source, idx int, m tenants.Mapping) error {
	if idx >= 0 {
		routes := append([]tenants.Route(nil), src.Routes...)
		routes[idx].Mapping = m
		_, err := a.saveRoutes(ctx, src, routes)
		return err
	}
	src.Mapping = m
	_, err := a.sources.Save(ctx, src)
	return err
}

// setSourceSecret gives a source a new shared secret, required from then on
// in the header (DefaultSecretHeader when empty) of every webhook request.
func (a *App) setSourceSecret(ctx context.Context, src tenants.Source, header string) (tenants.Source, error) {
	if err := validHeaderName(header); err != nil {
		return src, err
	}
	src.SecretName, src.Secret = header, tenants.NewSecret()
	return a.sources.Save(ctx, src)
}

// removeSourceSecret stops requiring a shared secret.
func (a *App) removeSourceSecret(ctx context.Context, src tenants.Source) (tenants.Source, error) {
	src.SecretName, src.Secret = "", ""
	return a.sources.Save(ctx, src)
}
