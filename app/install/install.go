// Package install connects a HubSpot portal to refhub: /oauth/install
// sends the browser to HubSpot's consent page, and /oauth/callback checks
// the state, exchanges the code, records the portal and its tokens,
// resumes its lane and signs the user in.
package install

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	refhub "github.com/refhub/refhub"
	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// Scopes are the OAuth scopes the install requests: exactly the required
// scopes declared in hubspot-app.json.
func Scopes() []string {
	return append([]string(nil), refhub.App().Config.Auth.RequiredScopes...)
}

// Deps are what the install flow works with.
type Deps struct {
	Installer *oauth.Installer
	Store     *tenants.RedisStore
	Tokens    *oauth.Tokens
	Portals   *workspace.Portals
	Sessions  *auth.Sessions
	Log       *slog.Logger
	// OnInstall is called after a portal was installed (refhub dev prints
	// a ready-to-paste curl from it).
	OnInstall func(ctx context.Context, ws tenants.Workspace, p tenants.Portal)
}

// Handlers serve the install flow.
type Handlers struct{ Deps }

// New returns the install flow's handlers.
func New(d Deps) *Handlers { return &Handlers{Deps: d} }

// Begin starts an install: nonce cookie, signed state, redirect to
// HubSpot's consent page.
func (h *Handlers) Begin(c *gin.Context) error {
	target, err := h.Installer.Begin(c.Writer, c.Query("return_to"))
	if err != nil {
		return err
	}
	c.Redirect(http.StatusFound, target)
	return nil
}

// Callback completes an install: check state against the browser's
// nonce, exchange the code, learn portal and user from HubSpot, store the
// portal and its tokens, resume its lane, and sign the user in.
func (h *Handlers) Callback(c *gin.Context) error {
	ctx := c.Request.Context()
	grant, err := h.Installer.Complete(ctx, c.Writer, c.Request)
	if err != nil {
		return problem(err)
	}
	kept := false
	defer func() {
		if !kept { // a token refhub does not hold must not stay alive at HubSpot
			h.Portals.RevokeRefreshToken(context.WithoutCancel(ctx), grant.Info.HubID, grant.Token.RefreshToken)
		}
	}()
	info := grant.Info
	ws, portal, err := h.Store.Install(ctx, tenants.Installation{HubID: info.HubID, Domain: info.HubDomain,
		UserID: info.UserID, UserEmail: info.User, Scopes: info.Scopes})
	var elsewhere *tenants.ElsewhereError
	if errors.As(err, &elsewhere) {
		return &apperr.Error{Code: apperr.Conflict, Message: "This HubSpot portal is connected to another refhub workspace (owner " +
			elsewhere.OwnerEmail + "), and you belong to a workspace of your own. Ask that workspace's owner to reconnect it, or to delete it from refhub so you can connect it here.", Err: err}
	}
	if errors.Is(err, tenants.ErrViewerConnects) {
		return &apperr.Error{Code: apperr.Forbidden, Message: "Your role in this refhub workspace is viewer, so you cannot connect a new portal to it. Ask the workspace's owner to connect it, or to make you an admin.", Err: err}
	}
	if err != nil {
		return err
	}
	member, err := h.Store.Member(ctx, ws.ID, info.UserID)
	if err != nil {
		return err
	}
	if err := h.Tokens.SaveGrant(ctx, portal.HubID, oauth.Grantor{UserID: info.UserID, Email: info.User}, grant.Token); err != nil {
		return err
	}
	kept = true
	if err := h.Portals.Resume(ctx, portal.HubID); err != nil {
		return err
	}
	h.Log.Info("portal installed", slog.Int64("portal", portal.HubID), slog.String("workspace", ws.ID))
	if err := h.Sessions.SignIn(ctx, c.Writer, ws, member); err != nil {
		return err
	}
	if h.OnInstall != nil {
		h.OnInstall(ctx, ws, portal)
	}
	dest := grant.ReturnTo
	if dest == "" {
		dest = "/app/"
	}
	c.Redirect(http.StatusFound, dest)
	return nil
}

// problem says why an install did not complete.
func problem(err error) error {
	var de *oauth.DeniedError
	switch {
	case errors.Is(err, oauth.ErrState):
		return &apperr.Error{Code: apperr.Invalid, Message: oauth.ErrState.Error(), Err: err}
	case errors.As(err, &de):
		return &apperr.Error{Code: apperr.Invalid, Message: de.Error()}
	}
	return &apperr.Error{Code: apperr.Upstream, Message: "HubSpot did not complete the install; please try again", Err: err}
}
