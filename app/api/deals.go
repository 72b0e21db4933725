package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/tenants"
)

// PutDeals sets which of the source's signups also become deals, and how.
func (h *Handlers) PutDeals(c *gin.Context, src tenants.Source) error {
	var d tenants.DealSettings
	if err := decodeJSON(c, &d); err != nil {
		return err
	}
	src, err := h.ws.Sources.SaveDeals(c.Request.Context(), src, &d)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// DeleteDeals stops creating deals for the source (deals made stay).
func (h *Handlers) DeleteDeals(c *gin.Context, src tenants.Source) error {
	src, err := h.ws.Sources.SaveDeals(c.Request.Context(), src, nil)
	return reply(c, http.StatusOK, h.ws.Sources.View(src), err)
}

// DealChoices lists what the source's deal settings can choose from in its
// portal: open pipelines with their stages, writable deal properties, the
// last signup's fields, and whether the portal must be reconnected first
// (?refresh=1 asks HubSpot again rather than reuse the last minute's list).
func (h *Handlers) DealChoices(c *gin.Context, src tenants.Source) error {
	ch, err := h.ws.Sources.DealChoices(c.Request.Context(), src, c.Query("refresh") != "")
	return reply(c, http.StatusOK, ch, err)
}
