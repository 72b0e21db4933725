package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/tenants"
)

// StartBackfill starts a backfill (or a reconcile) of the source from
// Referral Factory's API, with the account's API token (kept sealed with
// the source; left out, the one it holds).
func (h *Handlers) StartBackfill(c *gin.Context, src tenants.Source) error {
	var in struct {
		Token      string `json:"rf_api_token"`
		CampaignID int64  `json:"campaign_id"`
		Mode       string `json:"mode"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.bf.Start(c.Request.Context(), src, backfill.Request{Token: in.Token, CampaignID: in.CampaignID, Mode: in.Mode})
	return reply(c, http.StatusAccepted, st, err)
}

// Backfill reports the source's backfill: running, done or failed, users
// read of the total, what it waits on.
func (h *Handlers) Backfill(c *gin.Context, src tenants.Source) error {
	st, err := h.bf.Status(c.Request.Context(), src)
	return reply(c, http.StatusOK, st, err)
}

// PutDailyReconcile turns the source's daily reconcile on or off.
func (h *Handlers) PutDailyReconcile(c *gin.Context, src tenants.Source) error {
	var in struct {
		Enabled    *bool `json:"enabled"`
		CampaignID int64 `json:"campaign_id"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Enabled == nil {
		return apperr.New(apperr.Unprocessable, "give enabled: true or false")
	}
	st, err := h.bf.SetDaily(c.Request.Context(), src, *in.Enabled, in.CampaignID)
	return reply(c, http.StatusOK, st, err)
}

// ForgetRFToken removes the Referral Factory API token the source holds.
func (h *Handlers) ForgetRFToken(c *gin.Context, src tenants.Source) error {
	if err := h.bf.ForgetToken(c.Request.Context(), src); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
