package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
)

// Tokens lists the workspace's API tokens (signed-in users only:
// auth.RequireSession).
func (h *Handlers) Tokens(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	ts, err := h.ws.Tokens.List(c.Request.Context(), who.WorkspaceID, who.Member)
	return reply(c, http.StatusOK, gin.H{"tokens": ts}, err)
}

// CreateToken makes an API token; its secret is shown this once.
func (h *Handlers) CreateToken(c *gin.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	who := auth.PrincipalOf(c)
	t, secret, err := h.ws.Tokens.Create(c.Request.Context(), who.WorkspaceID, who.Member, in.Name)
	return reply(c, http.StatusCreated, gin.H{"token": t, "secret": secret,
		"note": "Copy the secret now: refhub stores only a hash of it and cannot show it again."}, err)
}

// RevokeToken revokes an API token.
func (h *Handlers) RevokeToken(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	if err := h.ws.Tokens.Revoke(c.Request.Context(), who.WorkspaceID, who.Member, c.Param("tokenId")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
