package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
)

// Forget deletes everything the workspace keeps about one person.
func (h *Handlers) Forget(c *gin.Context) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	who := auth.PrincipalOf(c)
	d, err := h.privacy.Forget(c.Request.Context(), who.WorkspaceID, in.Email, who.Member.Sees)
	return reply(c, http.StatusOK, d, err)
}

// Deletions lists the workspace's privacy deletions (no personal data).
func (h *Handlers) Deletions(c *gin.Context) error {
	ds, err := h.privacy.Deletions(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID)
	return reply(c, http.StatusOK, gin.H{"deletions": ds}, err)
}
