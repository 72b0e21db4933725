package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/tenants"
)

// PutMapping replaces the source's default mapping.
func (h *Handlers) PutMapping(c *gin.Context, src tenants.Source) error {
	var m tenants.Mapping
	if err := decodeJSON(c, &m); err != nil {
		return err
	}
	m, err := h.ws.Sources.SaveMapping(c.Request.Context(), src, -1, m)
	if err != nil {
		return err
	}
	src.Mapping = m
	return reply(c, http.StatusOK, h.ws.Sources.View(src), nil)
}

// PutRoutes replaces the source's campaign routes.
func (h *Handlers) PutRoutes(c *gin.Context, src tenants.Source) error {
	var in struct {
		Routes []tenants.Route `json:"routes"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Routes == nil {
		in.Routes = []tenants.Route{}
	}
	src, err := h.ws.Sources.SaveRoutes(c.Request.Context(), auth.PrincipalOf(c).Member, src, in.Routes)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// Recommended creates the recommended properties in the source's portal
// and maps them.
func (h *Handlers) Recommended(c *gin.Context, src tenants.Source) error {
	_, res, err := h.ws.Sources.CreateRecommended(c.Request.Context(), src)
	return reply(c, http.StatusOK, res, err)
}

// PutLeadMapping replaces the mapping of the source's leads.
func (h *Handlers) PutLeadMapping(c *gin.Context, src tenants.Source) error {
	var m tenants.Mapping
	if err := decodeJSON(c, &m); err != nil {
		return err
	}
	src, err := h.ws.Sources.SaveLeadMapping(c.Request.Context(), src, &m)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// DeleteLeadMapping removes the lead mapping: leads use the referrer
// mapping again.
func (h *Handlers) DeleteLeadMapping(c *gin.Context, src tenants.Source) error {
	src, err := h.ws.Sources.SaveLeadMapping(c.Request.Context(), src, nil)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// PutLeadRule sets how the source tells leads from referrers.
func (h *Handlers) PutLeadRule(c *gin.Context, src tenants.Source) error {
	var r tenants.LeadRule
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	src, err := h.ws.Sources.SaveLeadRule(c.Request.Context(), src, &r)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// DeleteLeadRule returns the source to the built-in lead rule.
func (h *Handlers) DeleteLeadRule(c *gin.Context, src tenants.Source) error {
	src, err := h.ws.Sources.SaveLeadRule(c.Request.Context(), src, nil)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}
