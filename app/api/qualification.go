package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/tenants"
)

// Qualification shows the source's qualification rule (the inbound URL
// redacted; "configured": false when it has none).
func (h *Handlers) Qualification(c *gin.Context, src tenants.Source) error {
	v, _, err := h.qualify.Show(c.Request.Context(), src)
	return reply(c, http.StatusOK, v, err)
}

// PutQualification sets the source's qualification rule.
func (h *Handlers) PutQualification(c *gin.Context, src tenants.Source) error {
	var in qualify.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := h.qualify.Save(c.Request.Context(), src, in)
	return reply(c, http.StatusOK, v, err)
}

// DeleteQualification removes the source's qualification rule.
func (h *Handlers) DeleteQualification(c *gin.Context, src tenants.Source) error {
	if err := h.qualify.Remove(c.Request.Context(), src); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// TestQualification shows what a qualification would send; nothing is sent.
func (h *Handlers) TestQualification(c *gin.Context, src tenants.Source) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeOptionalJSON(c, &in); err != nil {
		return err
	}
	p, err := h.qualify.Test(c.Request.Context(), src, in.Code)
	return reply(c, http.StatusOK, p, err)
}

// QualificationChoices lists what a rule can watch in the source's portal.
func (h *Handlers) QualificationChoices(c *gin.Context, src tenants.Source) error {
	ch, err := h.qualify.Choices(c.Request.Context(), src)
	return reply(c, http.StatusOK, ch, err)
}
