package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// Portals lists the workspace's portals (?q= searches domain and hub id),
// a page at a time, with today's counts.
func (h *Handlers) Portals(c *gin.Context) error {
	ctx := c.Request.Context()
	who := auth.PrincipalOf(c)
	ws := who.WorkspaceID
	kept, _, err := h.ws.Portals.Search(ctx, ws, who.Member, c.Query("q"))
	if err != nil {
		return err
	}
	page, perPage, err := web.Paging(c)
	if err != nil {
		return err
	}
	srcs, err := h.ws.Sources.List(ctx, ws, who.Member)
	if err != nil {
		return err
	}
	out, err := h.ws.Portals.Summarize(ctx, web.PageOf(kept, page, perPage), srcs)
	return reply(c, http.StatusOK, gin.H{"portals": out, "total": len(kept), "page": page, "per_page": perPage}, err)
}

// Portal shows one portal with today's counts.
func (h *Handlers) Portal(c *gin.Context, p tenants.Portal) error {
	sum, _, err := h.ws.Portals.Summary(c.Request.Context(), p, auth.PrincipalOf(c).Member)
	return reply(c, http.StatusOK, sum, err)
}

// Disconnect revokes the portal's token and stops delivery to it.
func (h *Handlers) Disconnect(c *gin.Context, p tenants.Portal) error {
	p, err := h.ws.Portals.Disconnect(c.Request.Context(), p)
	return reply(c, http.StatusOK, workspace.ViewPortal(p), err)
}

// DeletePortal removes the portal and everything refhub holds for it.
func (h *Handlers) DeletePortal(c *gin.Context, p tenants.Portal) error {
	if err := h.ws.Portals.Delete(c.Request.Context(), p); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// Properties lists the portal's contact properties (?refresh= bypasses the
// cache).
func (h *Handlers) Properties(c *gin.Context, p tenants.Portal) error {
	props, err := h.ws.Portals.Properties(c.Request.Context(), p.HubID, c.Query("refresh") != "")
	return reply(c, http.StatusOK, gin.H{"properties": props}, err)
}

// PortalStats is the portal's signups per UTC day over the last ?days= (1
// to 30, default 30), oldest first, and its queue now.
func (h *Handlers) PortalStats(c *gin.Context, p tenants.Portal) error {
	days, err := web.IntParam(c, "days", workspace.TrendDays, 1, workspace.TrendDays)
	if err != nil {
		return err
	}
	t, err := h.ws.Portals.Trend(c.Request.Context(), p, days)
	return reply(c, http.StatusOK, t, err)
}
