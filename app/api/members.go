package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// Members lists the workspace's members: who may sign in, their role and
// portals, when they joined and through which portal.
func (h *Handlers) Members(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	ms, err := h.ws.Members.List(c.Request.Context(), who.WorkspaceID, who.Member)
	return reply(c, http.StatusOK, gin.H{"members": ms}, err)
}

// PatchMember sets a member's role and portals (owner only:
// auth.RequireOwner).
func (h *Handlers) PatchMember(c *gin.Context) error {
	id, err := web.MemberID(c)
	if err != nil {
		return err
	}
	var in struct {
		Role    tenants.Role    `json:"role"`
		Portals json.RawMessage `json:"portals"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Role == "" || in.Portals == nil {
		return apperr.New(apperr.Unprocessable, `give the member's role and portals ("all" or a list of portal ids)`)
	}
	g := tenants.Grant{Role: in.Role}
	if g.AllPortals, g.Portals, err = workspace.ParsePortals(in.Portals); err != nil {
		return err
	}
	m, err := h.ws.Members.Set(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID, id, g)
	return reply(c, http.StatusOK, m, err)
}

// RemoveMember removes a member (owner only); ?confirm=true removes one
// whose HubSpot grant is the last working one of a portal.
func (h *Handlers) RemoveMember(c *gin.Context) error {
	id, err := web.MemberID(c)
	if err != nil {
		return err
	}
	r, err := h.ws.Members.Remove(c.Request.Context(), auth.PrincipalOf(c).WorkspaceID, id, c.Query("confirm") == "true")
	return reply(c, http.StatusOK, r, err)
}
