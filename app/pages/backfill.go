package pages

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/tenants"
)

// campaignField reads an optional campaign id from a form.
func campaignField(c *gin.Context) (int64, error) {
	raw := strings.TrimSpace(c.PostForm("campaign_id"))
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		return 0, apperr.New(apperr.Unprocessable, "the campaign id is the number in the campaign's address in Referral Factory")
	}
	return n, nil
}

// StartBackfill starts a backfill or reconcile from the source page's form.
func (h *Pages) StartBackfill(c *gin.Context, src tenants.Source) error {
	again := func(err error) error {
		return h.showAgain(c, src, err, sourcePageView{TestEmail: auth.PrincipalOf(c).Email},
			func(v *sourcePageView, m string) { v.BackfillError = m })
	}
	campaign, err := campaignField(c)
	if err != nil {
		return again(err)
	}
	mode := c.PostForm("mode")
	if _, err := h.Backfill.Start(c.Request.Context(), src, backfill.Request{Token: c.PostForm("rf_api_token"),
		CampaignID: campaign, Mode: mode}); err != nil {
		return again(err)
	}
	what := "Backfill started: every user of the campaign is brought in through the mapping, like a webhook."
	if mode == backfill.Reconcile {
		what = "Reconcile started: only the users refhub never delivered are sent."
	}
	return h.redirectFlash(c, sourceURL(src.ID, "")+"#backfill", what, false)
}

// DailyReconcile turns the source's daily reconcile on or off.
func (h *Pages) DailyReconcile(c *gin.Context, src tenants.Source) error {
	campaign, err := campaignField(c)
	on := c.PostForm("enabled") == "yes"
	if err == nil {
		_, err = h.Backfill.SetDaily(c.Request.Context(), src, on, campaign)
	}
	if err != nil {
		return h.showAgain(c, src, err, sourcePageView{TestEmail: auth.PrincipalOf(c).Email},
			func(v *sourcePageView, m string) { v.DailyError = m })
	}
	msg := "The daily reconcile is off."
	if on {
		msg = "The daily reconcile is on: once a day, users Referral Factory has and refhub never delivered are sent."
	}
	return h.redirectFlash(c, sourceURL(src.ID, "")+"#backfill", msg, false)
}

// ForgetRFToken removes the Referral Factory API token the source holds.
func (h *Pages) ForgetRFToken(c *gin.Context, src tenants.Source) error {
	if err := h.Backfill.ForgetToken(c.Request.Context(), src); err != nil {
		return err
	}
	if _, err := h.Backfill.SetDaily(c.Request.Context(), src, false, 0); err != nil {
		return err
	}
	return h.redirectFlash(c, sourceURL(src.ID, "")+"#backfill", "The Referral Factory API token is removed from refhub.", false)
}
