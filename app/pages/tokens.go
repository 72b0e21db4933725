package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
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

// Tokens lists the workspace's API tokens (signed-in users only:
// auth.RequireSession).
func (h *Pages) Tokens(c *gin.Context) error {
	return h.renderTokens(c, http.StatusOK, tokensView{})
}

func (h *Pages) renderTokens(c *gin.Context, status int, v tokensView) error {
	who := auth.PrincipalOf(c)
	ts, err := h.ws.Tokens.List(c.Request.Context(), who.WorkspaceID, who.Member)
	if err != nil {
		return err
	}
	v.Tokens = ts
	h.render(c, status, "tokens.html", page{Title: "API tokens", Nav: "tokens", Data: v})
	return nil
}

// CreateToken makes an API token and shows its secret this once.
func (h *Pages) CreateToken(c *gin.Context) error {
	name := strings.TrimSpace(c.PostForm("name"))
	who := auth.PrincipalOf(c)
	t, secret, err := h.ws.Tokens.Create(c.Request.Context(), who.WorkspaceID, who.Member, name)
	if err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Unprocessable {
			return err
		}
		msg := e.Message
		var ve *tenants.ValidationError
		if errors.As(err, &ve) { // the problems themselves, without the API's "invalid …: " preamble
			msg = strings.Join(ve.Problems, "; ")
		}
		return h.renderTokens(c, http.StatusUnprocessableEntity, tokensView{Name: name, Error: msg})
	}
	// Rendered at once rather than redirected: refhub keeps only a hash, so
	// this response is the one chance to copy the secret.
	return h.renderTokens(c, http.StatusOK, tokensView{Secret: secret, Created: t.Name})
}

// RevokeToken revokes an API token.
func (h *Pages) RevokeToken(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	if err := h.ws.Tokens.Revoke(c.Request.Context(), who.WorkspaceID, who.Member, c.Param("tokenId")); err != nil {
		return err
	}
	return h.redirectFlash(c, "/app/tokens", "Token revoked: programs using it are refused from now on.", false)
}
