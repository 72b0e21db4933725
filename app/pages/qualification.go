package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/qualify"
	"github.com/refhub/refhub/tenants"
)

// qualificationView is a source's Qualification tab: the rule, what the
// portal offers to watch, and a preview of what would be sent.
type qualificationView struct {
	Ctx     sourceCtx
	Rule    qualify.View
	HasRule bool
	Form    qualify.Input // what the form shows (the URL field stays empty once saved)
	Choices qualify.Choices
	// ChoicesError says why the pickers could not be loaded from HubSpot.
	ChoicesError string
	Problem      string
	Preview      *qualify.Preview
}

// Qualification is a source's qualification rule.
func (h *Pages) Qualification(c *gin.Context, src tenants.Source) error {
	return h.renderQualification(c, http.StatusOK, src, qualificationView{})
}

func (h *Pages) renderQualification(c *gin.Context, status int, src tenants.Source, v qualificationView) error {
	ctx := c.Request.Context()
	sc, err := h.sourceContext(ctx, src, "qualification")
	if err != nil {
		return err
	}
	v.Ctx = sc
	if v.Rule, v.HasRule, err = h.Qualify.Show(ctx, src); err != nil {
		return err
	}
	if v.Form.When.Object == "" {
		v.Form.When = v.Rule.When
		if !v.HasRule {
			v.Form.When = qualify.Condition{Object: qualify.Contact, Property: "lifecyclestage", Value: "customer"}
		}
	}
	if v.Choices, err = h.Qualify.Choices(ctx, src); err != nil {
		v.ChoicesError = "The properties and pipelines could not be loaded from HubSpot: " + apperr.As(err).Message
	}
	h.renderSourcePage(c, status, "qualification.html", "Qualification", sc, v)
	return nil
}

// SaveQualification saves the rule from the form (the inbound URL is kept
// when left empty).
func (h *Pages) SaveQualification(c *gin.Context, src tenants.Source) error {
	ctx := c.Request.Context()
	in := qualify.Input{InboundURL: strings.TrimSpace(c.PostForm("rf_inbound_url")),
		When: qualify.Condition{Object: c.PostForm("object"), Property: c.PostForm("property"), Value: c.PostForm("value")}}
	if in.When.Object == qualify.Deal {
		in.When.Property, in.When.Value = "dealstage", c.PostForm("stage")
	}
	if in.InboundURL == "" {
		if rule, ok, err := h.Qualify.Rules.Get(ctx, src.ID); err != nil {
			return err
		} else if ok {
			in.InboundURL = rule.InboundURL
		}
	}
	if _, err := h.Qualify.Save(ctx, src, in); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.Unprocessable {
			in.InboundURL = ""
			return h.renderQualification(c, http.StatusUnprocessableEntity, src, qualificationView{Form: in, Problem: ae.Message})
		}
		return err
	}
	return h.redirectFlash(c, sourceURL(src.ID, "/qualification"), "Qualification rule saved.", false)
}

// TestQualification shows what a qualification would send; nothing is sent.
func (h *Pages) TestQualification(c *gin.Context, src tenants.Source) error {
	p, err := h.Qualify.Test(c.Request.Context(), src, strings.TrimSpace(c.PostForm("code")))
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.NotFound {
			return h.renderQualification(c, http.StatusOK, src, qualificationView{Problem: "Save a rule first: there is nothing to test yet."})
		}
		return err
	}
	return h.renderQualification(c, http.StatusOK, src, qualificationView{Preview: &p})
}

// DeleteQualification removes the rule.
func (h *Pages) DeleteQualification(c *gin.Context, src tenants.Source) error {
	if err := h.Qualify.Remove(c.Request.Context(), src); err != nil {
		return err
	}
	return h.redirectFlash(c, sourceURL(src.ID, "/qualification"), "Qualification rule removed: no referral of this source is qualified from now on.", false)
}
