package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

const principalKey = "refhub.principal"

func principal(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

// oauthInstall starts an install: nonce cookie, signed state, redirect to
// HubSpot's consent page.
func (a *App) oauthInstall(c *gin.Context) {
	target, err := a.installer.Begin(c.Writer, c.Query("return_to"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusFound, target)
}

// oauthCallback completes an install: check state against the browser's
// nonce, exchange the code, learn portal and user from HubSpot, store the
// portal and its tokens, resume its lane, and sign the user in.
func (a *App) oauthCallback(c *gin.Context) {
	ctx := c.Request.Context()
	grant, err := a.installer.Complete(ctx, c.Writer, c.Request)
	if err != nil {
		_ = c.Error(installProblem(err))
		return
	}
	kept := false
	defer func() {
		if !kept { // a token refhub does not hold must not stay alive at HubSpot
			a.revokeRefreshToken(context.WithoutCancel(ctx), grant.Info.HubID, grant.Token.RefreshToken)
		}
	}()
	info := grant.Info
	ws, portal, err := a.store.Install(ctx, tenants.Installation{HubID: info.HubID, Domain: info.HubDomain,
		UserID: info.UserID, UserEmail: info.User, Scopes: info.Scopes})
	var elsewhere *tenants.ElsewhereError
	if errors.As(err, &elsewhere) {
		_ = c.Error(&apperr.Error{Code: apperr.Conflict, Message: "This HubSpot portal is already connected to another refhub workspace (owner " +
			elsewhere.OwnerEmail + "). Ask that workspace's owner to reconnect it, or to delete it from refhub so you can connect it here.", Err: err})
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := a.tokens.Save(ctx, portal.HubID, grant.Token); err != nil {
		_ = c.Error(err)
		return
	}
	kept = true
	if err := a.queue.Register(ctx, portal.HubID); err != nil {
		_ = c.Error(err)
		return
	}
	if err := a.queue.Unpark(ctx, portal.HubID); err != nil {
		_ = c.Error(err)
		return
	}
	a.engine.Wake()
	a.log.Info("portal installed", slog.Int64("portal", portal.HubID), slog.String("workspace", ws.ID))
	if err := a.sessions.SignIn(ctx, c.Writer, ws, info.UserID, info.User); err != nil {
		_ = c.Error(err)
		return
	}
	if a.opts.OnInstall != nil {
		a.opts.OnInstall(ctx, ws, portal)
	}
	dest := grant.ReturnTo
	if dest == "" {
		dest = "/app/"
	}
	c.Redirect(http.StatusFound, dest)
}

// installProblem says why an install did not complete.
func installProblem(err error) error {
	var de *oauth.DeniedError
	switch {
	case errors.Is(err, oauth.ErrState):
		return &apperr.Error{Code: apperr.Invalid, Message: oauth.ErrState.Error(), Err: err}
	case errors.As(err, &de):
		return &apperr.Error{Code: apperr.Invalid, Message: de.Error()}
	}
	return &apperr.Error{Code: apperr.Upstream, Message: "HubSpot did not complete the install; please try again", Err: err}
}

// authenticate resolves the caller from the session cookie or an API token.
func (a *App) authenticate(c *gin.Context) (Principal, error) {
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return Principal{}, apperr.New(apperr.Unauthorized, "use Authorization: Bearer <API token>")
		}
		t, err := a.store.APIToken(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			if errors.Is(err, tenants.ErrNotFound) {
				return Principal{}, apperr.New(apperr.Unauthorized, "unknown or revoked API token")
			}
			return Principal{}, err
		}
		return Principal{WorkspaceID: t.WorkspaceID, TokenID: t.ID, Email: "api-token:" + t.Name}, nil
	}
	cookie, err := c.Cookie(SessionCookie)
	if err != nil || cookie == "" {
		return Principal{}, apperr.New(apperr.Unauthorized, "sign in with HubSpot first")
	}
	p, err := a.sessions.Verify(c.Request.Context(), cookie)
	if errors.Is(err, ErrNoSession) {
		return Principal{}, apperr.New(apperr.Unauthorized, "your session has ended: sign in with HubSpot again")
	}
	return p, err
}

// checkCSRF refuses a state-changing browser request without the session's
// anti-forgery token (header or form field). API tokens need none: a
// browser never sends them on its own.
func (a *App) checkCSRF(c *gin.Context, p Principal) bool {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if p.SessionID == "" {
		return true
	}
	token := c.GetHeader(CSRFHeader)
	if token == "" {
		token = c.PostForm(CSRFField)
	}
	return a.sessions.CheckCSRF(p.SessionID, token)
}

// authenticateAPI guards /api/v1: 401 without a valid session or token,
// 403 for a browser write without the CSRF token.
func (a *App) authenticateAPI(c *gin.Context) {
	p, err := a.authenticate(c)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	if !a.checkCSRF(c, p) {
		_ = c.Error(apperr.New(apperr.Forbidden, "missing or invalid CSRF token (send the refhub_csrf cookie's value in X-CSRF-Token)"))
		c.Abort()
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// authenticateUI guards /app: without a session, a page request is sent to
// sign in (the HubSpot install flow) and comes back afterwards.
func (a *App) authenticateUI(c *gin.Context) {
	p, err := a.authenticate(c)
	if err != nil {
		var e *apperr.Error
		if errors.As(err, &e) && e.Code == apperr.Unauthorized && c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusFound, "/app/signin?return_to="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		_ = c.Error(err)
		c.Abort()
		return
	}
	if !a.checkCSRF(c, p) {
		_ = c.Error(apperr.New(apperr.Forbidden, "this form has expired or did not come from refhub: reload the page and try again"))
		c.Abort()
		return
	}
	c.Set(principalKey, p)
	c.Next()
}
