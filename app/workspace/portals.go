package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Portals are the operations on a workspace's HubSpot portals.
type Portals struct {
	d       *Deps
	sources *Sources
}

// Load returns portal hub of workspace ws; another workspace's answers
// apperr.NotFound.
func (o *Portals) Load(ctx context.Context, ws string, hub int64) (tenants.Portal, error) {
	p, err := o.d.Store.WorkspacePortal(ctx, ws, hub)
	if errors.Is(err, tenants.ErrNotFound) {
		return p, apperr.New(apperr.NotFound, "no such portal")
	}
	return p, err
}

// Portal returns any portal by id (delivery's view, not a workspace's).
func (o *Portals) Portal(ctx context.Context, hub int64) (tenants.Portal, error) {
	return o.d.Store.Portal(ctx, hub)
}

// Search returns the workspace's portals member who may see whose domain
// or hub id contains q (all of them for ""), sorted by domain, and how many
// they may see in all.
func (o *Portals) Search(ctx context.Context, ws string, who tenants.Member, q string) ([]tenants.Portal, int, error) {
	all, err := o.d.Store.Portals(ctx, ws)
	if err != nil {
		return nil, 0, err
	}
	ps := slices.DeleteFunc(all, func(p tenants.Portal) bool { return !who.Sees(p.HubID) })
	q = strings.ToLower(strings.TrimSpace(q))
	var kept []tenants.Portal
	for _, p := range ps {
		if q == "" || strings.Contains(strings.ToLower(p.Domain), q) || strings.Contains(fmt.Sprint(p.HubID), q) {
			kept = append(kept, p)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Domain < kept[j].Domain })
	return kept, len(ps), nil
}

// Disconnect revokes the portal's refresh token at HubSpot and stops
// delivery; configuration, queued events and activity are kept for a
// reconnect (the next install of the portal).
func (o *Portals) Disconnect(ctx context.Context, p tenants.Portal) (tenants.Portal, error) {
	o.revokeAtHubSpot(ctx, p.HubID)
	if err := o.d.Tokens.Delete(ctx, p.HubID); err != nil {
		return p, err
	}
	return o.d.Store.SetPortalStatus(ctx, p.HubID, tenants.Disconnected,
		"Disconnected in refhub: signups are kept and delivered after the portal is connected again.")
}

// revokeAtHubSpot revokes every grant's refresh token; failures are
// logged (the tokens are deleted from refhub either way).
func (o *Portals) revokeAtHubSpot(ctx context.Context, hub int64) {
	rts, err := o.d.Tokens.RefreshTokens(ctx, hub)
	if err != nil {
		o.d.Log.Warn("read refresh tokens to revoke", slog.Int64("portal", hub), slog.Any("err", err))
	}
	for _, rt := range rts {
		o.RevokeRefreshToken(ctx, hub, rt)
	}
}

// RevokeRefreshToken revokes a portal's refresh token at HubSpot, logging
// a failure.
func (o *Portals) RevokeRefreshToken(ctx context.Context, hub int64, refreshToken string) {
	if err := o.d.HubSpot.Revoke(ctx, refreshToken, "refresh_token"); err != nil {
		o.d.Log.Warn("revoke refresh token at HubSpot", slog.Int64("portal", hub), slog.Any("err", err))
	}
}

// Delete removes a portal from refhub: its tokens (revoked at HubSpot),
// queued events, activity, dead letters, rate-limit state, cached
// properties, the sources whose default portal it is, and every reference
// other sources hold to it (routes, past portals).
func (o *Portals) Delete(ctx context.Context, p tenants.Portal) error {
	o.revokeAtHubSpot(ctx, p.HubID)
	if err := o.d.Tokens.Delete(ctx, p.HubID); err != nil {
		return err
	}
	srcs, err := o.d.Store.Sources(ctx, p.WorkspaceID)
	if err != nil {
		return err
	}
	var touched []string
	for _, s := range srcs {
		if !slices.Contains(s.AllPortals(), p.HubID) {
			continue
		}
		touched = append(touched, s.ID)
		if s.HubID == p.HubID {
			if err := o.sources.Delete(ctx, s); err != nil {
				return err
			}
			continue
		}
		if _, err := o.d.Sources.DropPortal(ctx, s, p.HubID); err != nil {
			return err
		}
	}
	if err := o.d.Queue.PurgePortal(ctx, p.HubID, touched); err != nil {
		return err
	}
	if err := o.d.Limiter.Purge(ctx, p.HubID); err != nil {
		return err
	}
	for _, own := range o.d.Owners {
		if err := own.PurgePortal(ctx, p.HubID); err != nil {
			return err
		}
	}
	o.d.Properties.Drop(ctx, p.HubID)
	if err := o.d.Leads.Purge(ctx, p.HubID); err != nil {
		return err
	}
	if err := o.d.Deals.Purge(ctx, p.HubID); err != nil {
		return err
	}
	if err := o.d.Redis.Del(ctx, dealChoicesKey(p.HubID)).Err(); err != nil {
		return err
	}
	return o.d.Store.DeletePortal(ctx, p)
}

// Resume is what a connected portal's lane needs to be worked on: known to
// the queue, unparked, and delivery woken. Install calls it after storing
// the portal's tokens, and delivery's housekeeping for a parked lane whose
// portal is connected.
func (o *Portals) Resume(ctx context.Context, hub int64) error {
	if err := o.d.Queue.Register(ctx, hub); err != nil {
		return err
	}
	if err := o.d.Queue.Unpark(ctx, hub); err != nil {
		return err
	}
	o.d.Wake()
	return nil
}

// Refused records that HubSpot refused the grant that minted access (a
// 401 for a fresh token, or scopes missing): delivery moves to the
// portal's next working grant, and reports true; false when none is left
// (the caller then records NeedsReconnect).
func (o *Portals) Refused(ctx context.Context, hub int64, access, reason string) bool {
	f, err := o.d.Tokens.Fail(ctx, hub, access, reason)
	if err != nil {
		o.d.Log.Error("record a refused grant", slog.Int64("portal", hub), slog.Any("err", err))
		return false
	}
	if f.Failed.Email != "" {
		o.d.Log.Warn("HubSpot refused a user's grant", slog.Int64("portal", hub), slog.String("user", f.Failed.Email),
			slog.String("reason", reason), slog.Bool("failed_over", f.FailedOver), slog.String("now_using", f.Next.Email))
	}
	return f.FailedOver
}

// NeedsReconnect records that HubSpot accepts none of a portal's grants:
// the tokens stop being used and the portal shows needs_reconnect, with
// reason, until it is installed again.
func (o *Portals) NeedsReconnect(ctx context.Context, hub int64, reason string) {
	o.d.Tokens.MarkRevoked(ctx, hub, reason)
	if _, err := o.d.Store.SetPortalStatus(ctx, hub, tenants.NeedsReconnect, reason); err != nil {
		o.d.Log.Error("mark portal needs_reconnect", slog.Int64("portal", hub), slog.Any("err", err))
		return
	}
	o.d.Log.Warn("portal needs to be reconnected", slog.Int64("portal", hub), slog.String("reason", reason))
}

// Properties lists a portal's contact properties, writable ones first by
// label; refresh bypasses the cache.
func (o *Portals) Properties(ctx context.Context, hub int64, refresh bool) ([]properties.View, error) {
	list, err := o.d.Properties.List(ctx, hub, refresh)
	if err != nil {
		return nil, o.hubspotProblem(ctx, hub, err)
	}
	return properties.Views(list), nil
}

// hubspotProblem turns a HubSpot failure for a portal into an error for
// the admin; tokens HubSpot refused mark the portal needs_reconnect.
func (o *Portals) hubspotProblem(ctx context.Context, hub int64, err error) error {
	var re *oauth.ReconnectError
	isReconnect := errors.As(err, &re)
	if isReconnect && re.Revoked {
		o.NeedsReconnect(ctx, hub, re.Reason)
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) || isReconnect {
		return &apperr.Error{Code: apperr.Upstream, Message: "HubSpot did not answer as expected: " + err.Error(), Err: err}
	}
	return err
}
