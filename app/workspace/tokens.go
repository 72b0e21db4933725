package workspace

import (
	"context"
	"errors"
	"slices"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// Tokens are the operations on a workspace's API tokens.
type Tokens struct{ d *Deps }

// List returns the workspace's API tokens member who may manage: all of
// them for the owner, their own for anyone else (never nil).
func (o *Tokens) List(ctx context.Context, ws string, who tenants.Member) ([]tenants.APIToken, error) {
	ts, err := o.d.Store.APITokens(ctx, ws)
	ts = slices.DeleteFunc(ts, func(t tenants.APIToken) bool { return !manages(who, t) })
	if ts == nil {
		ts = []tenants.APIToken{}
	}
	return ts, err
}

// manages reports whether member who may see and revoke token t: the owner
// any (a token made before members were recorded is the owner's), anyone
// else their own.
func manages(who tenants.Member, t tenants.APIToken) bool {
	return who.Role == tenants.Owner || (t.CreatedBy != 0 && t.CreatedBy == who.UserID)
}

// Create makes an API token of member who and returns it with its secret,
// shown once; it acts with that member's rights.
func (o *Tokens) Create(ctx context.Context, ws string, who tenants.Member, name string) (tenants.APIToken, string, error) {
	return o.d.Store.CreateAPIToken(ctx, ws, who, name)
}

// Revoke revokes API token id of the workspace, if member who manages it.
func (o *Tokens) Revoke(ctx context.Context, ws string, who tenants.Member, id string) error {
	ts, err := o.d.Store.APITokens(ctx, ws)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ts, func(t tenants.APIToken) bool { return t.ID == id && manages(who, t) }) {
		return apperr.New(apperr.NotFound, "no such API token")
	}
	err = o.d.Store.RevokeAPIToken(ctx, ws, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return apperr.New(apperr.NotFound, "no such API token")
	}
	return err
}
