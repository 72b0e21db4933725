package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// Members are the operations on a workspace's members: who may sign in,
// with which role and portals (README.md, "Teams").
type Members struct {
	d       *Deps
	portals *Portals
}

// MemberView is a member as the API and the pages show it. Portals is
// "all" or a list of hub ids.
type MemberView struct {
	ID        int64        `json:"id"` // the HubSpot user id
	Email     string       `json:"email"`
	Role      tenants.Role `json:"role"`
	Portals   any          `json:"portals"`
	JoinedAt  time.Time    `json:"joined_at"`
	JoinedVia int64        `json:"joined_via_hub_id,omitempty"`
}

// ViewMember returns the view of m.
func ViewMember(m tenants.Member) MemberView {
	v := MemberView{ID: m.UserID, Email: m.Email, Role: m.Role, JoinedAt: m.JoinedAt, JoinedVia: m.JoinedVia}
	if m.Role == tenants.Owner || m.AllPortals {
		v.Portals = "all"
	} else {
		hubs := m.Portals
		if hubs == nil {
			hubs = []int64{}
		}
		v.Portals = hubs
	}
	return v
}

// List returns the workspace's members, the owner first, as member who
// may see them: everyone is listed, but a portal who may not see is left
// out of the lists of portals.
func (o *Members) List(ctx context.Context, ws string, who tenants.Member) ([]MemberView, error) {
	ms, err := o.d.Store.Members(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]MemberView, len(ms))
	for i, m := range ms {
		m.Portals = slices.DeleteFunc(slices.Clone(m.Portals), func(h int64) bool { return !who.Sees(h) })
		if !who.Sees(m.JoinedVia) {
			m.JoinedVia = 0
		}
		out[i] = ViewMember(m)
	}
	return out, nil
}

// ParsePortals reads a grant's portals: the string "all" or a list of hub
// ids.
func ParsePortals(raw json.RawMessage) (all bool, hubs []int64, err error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "all" {
			return false, nil, apperr.New(apperr.Unprocessable, `portals must be "all" or a list of portal ids`)
		}
		return true, nil, nil
	}
	if err := json.Unmarshal(raw, &hubs); err != nil || hubs == nil {
		return false, nil, apperr.New(apperr.Unprocessable, `portals must be "all" or a list of portal ids`)
	}
	if len(hubs) > 10_000 {
		return false, nil, apperr.New(apperr.Unprocessable, "grant at most 10000 portals one by one, or \"all\"")
	}
	return false, hubs, nil
}

// Set gives member id a role and portals.
func (o *Members) Set(ctx context.Context, ws string, id int64, g tenants.Grant) (MemberView, error) {
	m, err := o.d.Store.SetMember(ctx, ws, id, g)
	if errors.Is(err, tenants.ErrNotFound) {
		return MemberView{}, apperr.New(apperr.NotFound, "no such member")
	}
	return ViewMember(m), err
}

// Removal is what removing a member did.
type Removal struct {
	Member MemberView `json:"member"`
	// Revoked lists the portals whose HubSpot grant of the member was
	// revoked; Reconnect those that now need reconnecting (theirs was the
	// last working grant, and the owner confirmed).
	Revoked   []int64 `json:"revoked_grants"`
	Reconnect []int64 `json:"needs_reconnect"`
}

// LastGrantError refuses to remove a member whose HubSpot grant is the
// last working one of some portals, until the owner confirms.
type LastGrantError struct {
	Email   string
	Portals []tenants.Portal
}

func (e *LastGrantError) Error() string {
	names := make([]string, len(e.Portals))
	for i, p := range e.Portals {
		names[i] = fmt.Sprintf("%s (%d)", p.Domain, p.HubID)
	}
	return fmt.Sprintf("%s's HubSpot grant is the last working one for %s: removing them stops delivery there until "+
		"someone installs refhub again. Ask another admin of the portal to sign in to refhub first, or confirm the removal",
		e.Email, strings.Join(names, ", "))
}

// Remove removes member id: their sessions and API tokens stop working at
// once, and their HubSpot grants are revoked. If one of those is the last
// working grant of a portal, nothing is done without confirm (a
// *LastGrantError, conflict); with it that portal needs reconnecting.
func (o *Members) Remove(ctx context.Context, ws string, id int64, confirm bool) (Removal, error) {
	m, err := o.d.Store.Member(ctx, ws, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return Removal{}, apperr.New(apperr.NotFound, "no such member")
	}
	if err != nil {
		return Removal{}, err
	}
	if m.Role == tenants.Owner {
		return Removal{}, apperr.New(apperr.Unprocessable, "the owner cannot be removed")
	}
	ps, err := o.d.Store.Portals(ctx, ws)
	if err != nil {
		return Removal{}, err
	}
	var last []tenants.Portal
	for _, p := range ps {
		isLast, err := o.d.Tokens.HoldsLastGrant(ctx, p.HubID, id)
		if err != nil {
			return Removal{}, err
		}
		if isLast {
			last = append(last, p)
		}
	}
	if len(last) > 0 && !confirm {
		le := &LastGrantError{Email: m.Email, Portals: last}
		return Removal{}, &apperr.Error{Code: apperr.Conflict, Message: le.Error(), Err: le}
	}
	if _, err := o.d.Store.RemoveMember(ctx, ws, id); err != nil {
		return Removal{}, err
	}
	r := Removal{Member: ViewMember(m), Revoked: []int64{}, Reconnect: []int64{}}
	for _, p := range ps {
		rt, err := o.d.Tokens.RemoveGrant(ctx, p.HubID, id)
		if err != nil {
			o.d.Log.Warn("forget a removed member's grant", slog.Int64("portal", p.HubID), slog.Any("err", err))
			continue
		}
		if rt == "" {
			continue
		}
		o.portals.RevokeRefreshToken(ctx, p.HubID, rt)
		r.Revoked = append(r.Revoked, p.HubID)
	}
	for _, p := range last {
		o.portals.NeedsReconnect(ctx, p.HubID, m.Email+" was removed from the workspace and their HubSpot grant, the last working one, revoked: install refhub again in this portal")
		r.Reconnect = append(r.Reconnect, p.HubID)
	}
	return r, nil
}
