package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// CreateSource adds a source sending to the portal.
func (h *Handlers) CreateSource(c *gin.Context, p tenants.Portal) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	src, err := h.ws.Sources.Create(c.Request.Context(), p, in.Name)
	return reply(c, http.StatusCreated, h.ws.Sources.View(src), err)
}

// Sources lists the workspace's sources.
func (h *Handlers) Sources(c *gin.Context) error {
	who := auth.PrincipalOf(c)
	srcs, err := h.ws.Sources.List(c.Request.Context(), who.WorkspaceID, who.Member)
	if err != nil {
		return err
	}
	out := make([]workspace.SourceView, len(srcs))
	for i, s := range srcs {
		out[i] = h.ws.Sources.View(s)
	}
	return reply(c, http.StatusOK, gin.H{"sources": out}, nil)
}

// Source shows one source.
func (h *Handlers) Source(c *gin.Context, src tenants.Source) error {
	return reply(c, http.StatusOK, h.ws.Sources.View(src), nil)
}

// PatchSource renames the source, moves its default portal, or changes
// which kinds of signup it sends to HubSpot.
func (h *Handlers) PatchSource(c *gin.Context, src tenants.Source) error {
	var in workspace.SourcePatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	src, err := h.ws.Sources.Patch(c.Request.Context(), auth.PrincipalOf(c).Member, src, in)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// DeleteSource removes the source and its webhook URL.
func (h *Handlers) DeleteSource(c *gin.Context, src tenants.Source) error {
	if err := h.ws.Sources.Delete(c.Request.Context(), src); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// RotateURL gives the source a new webhook URL.
func (h *Handlers) RotateURL(c *gin.Context, src tenants.Source) error {
	src, err := h.ws.Sources.Rotate(c.Request.Context(), src)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// CreateSecret gives the source a new shared secret, required from then on
// in a header of every webhook request. The secret is returned so the admin
// can add the header in Referral Factory.
func (h *Handlers) CreateSecret(c *gin.Context, src tenants.Source) error {
	var in struct {
		Header string `json:"header"`
	}
	if err := decodeOptionalJSON(c, &in); err != nil {
		return err
	}
	src, err := h.ws.Sources.SetSecret(c.Request.Context(), src, in.Header)
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, gin.H{"header": src.SecretHeader(), "secret": src.Secret}, nil)
}

// DeleteSecret stops requiring a shared secret.
func (h *Handlers) DeleteSecret(c *gin.Context, src tenants.Source) error {
	src, err := h.ws.Sources.RemoveSecret(c.Request.Context(), src)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// SourceStats is the source's signups per UTC day over the last ?days= (1
// to 30, default 30), summed over its workspace's portals it sends to, and
// the queues of those portals now.
func (h *Handlers) SourceStats(c *gin.Context, src tenants.Source) error {
	days, err := web.IntParam(c, "days", workspace.TrendDays, 1, workspace.TrendDays)
	if err != nil {
		return err
	}
	t, err := h.ws.Sources.Trend(c.Request.Context(), src, days)
	return reply(c, http.StatusOK, t, err)
}
