package workspace

import (
	"context"
	"errors"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// Tokens are the operations on a workspace's API tokens.
type Tokens struct{ d *Deps }

// List returns the workspace's API tokens (never nil).
func (o *Tokens) List(ctx context.Context, ws string) ([]tenants.APIToken, error) {
	ts, err := o.d.Store.APITokens(ctx, ws)
	if ts == nil {
		ts = []tenants.APIToken{}
	}
	return ts, err
}

// Create makes an API token and returns it with its secret, shown once.
func (o *Tokens) Create(ctx context.Context, ws, name string) (tenants.APIToken, string, error) {
	return o.d.Store.CreateAPIToken(ctx, ws, name)
}

// Revoke revokes API token id of the workspace.
func (o *Tokens) Revoke(ctx context.Context, ws, id string) error {
	err := o.d.Store.RevokeAPIToken(ctx, ws, id)
	if errors.Is(err, tenants.ErrNotFound) {
		return apperr.New(apperr.NotFound, "no such API token")
	}
	return err
}
