package app

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// tokensView lists the workspace's API tokens; Secret is the one just
// created, shown on that response only.
type tokensView struct {
	Tokens  []tenants.APIToken
	Secret  string
	Created string
	Name    string
	Error   string
}

func (a *App) uiTokens(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	a.renderTokens(c, http.StatusOK, tokensView{})
}

func (a *App) renderTokens(c *gin.Context, status int, v tokensView) {
	ts, err := a.store.APITokens(c.Request.Context(), principal(c).WorkspaceID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	v.Tokens = ts
	a.render(c, status, "tokens.html", page{Title: "API tokens", Nav: "tokens", Data: v})
}

func (a *App) uiCreateToken(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	t, secret, err := a.store.CreateAPIToken(c.Request.Context(), principal(c).WorkspaceID, name)
	if err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Unprocessable {
			_ = c.Error(err)
			return
		}
		a.renderTokens(c, http.StatusUnprocessableEntity, tokensView{Name: name, Error: strings.TrimPrefix(e.Message, "invalid mapping: ")})
		return
	}
	// Rendered at once rather than redirected: refhub keeps only a hash, so
	// this response is the one chance to copy the secret.
	a.renderTokens(c, http.StatusOK, tokensView{Secret: secret, Created: t.Name})
}

func (a *App) uiRevokeToken(c *gin.Context) {
	if !sessionOnly(c) {
		return
	}
	if err := a.revokeToken(c); err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, "/app/tokens", "Token revoked: programs using it are refused from now on.", false)
}
