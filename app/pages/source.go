package pages

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/backfill"
	"github.com/refhub/refhub/app/ingest"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// sourceCtx is what every page of a source shows around its content: the
// source, its default portal, and which tab is current.
type sourceCtx struct {
	Source    workspace.SourceView
	Portal    tenants.Portal
	Tab       string
	OverQuota string // why Referral Factory's requests are refused, if they are
}

// sourceContext loads what the source pages share.
func (h *Pages) sourceContext(ctx context.Context, src tenants.Source, tab string) (sourceCtx, error) {
	p, err := h.ws.Portals.Load(ctx, src.WorkspaceID, src.HubID)
	if err != nil {
		return sourceCtx{}, err
	}
	b, err := h.ws.Sources.Backlog(ctx, src)
	if err != nil {
		return sourceCtx{}, err
	}
	return sourceCtx{Source: h.ws.Sources.View(src), Portal: p, Tab: tab, OverQuota: b.OverQuota}, nil
}

// renderSourcePage renders one of a source's pages with its breadcrumbs;
// title names the tab ("" for the overview).
func (h *Pages) renderSourcePage(c *gin.Context, status int, tmpl, title string, sc sourceCtx, data any) {
	crumbs := []crumb{{"Portals", "/app/"}, {sc.Portal.Domain, fmt.Sprintf("/app/portals/%d", sc.Portal.HubID)}}
	full := sc.Source.Name
	if title != "" {
		crumbs = append(crumbs, crumb{sc.Source.Name, sourceURL(sc.Source.ID, "")})
		full = title + " · " + sc.Source.Name
	}
	h.render(c, status, tmpl, page{Title: full, Nav: "portals", Crumbs: crumbs, Data: data})
}

// sourcePageView is a source's overview: webhook URL, Referral Factory
// instructions, shared secret, test signup and last payload.
type sourcePageView struct {
	Ctx           sourceCtx
	Trend         trendView
	Routes        []routeSummary
	Last          *workspace.EventView
	Curl          string
	DefaultHeader string
	NewSecret     string // shown once, right after it was generated
	TestEmail     string
	TestError     string
	SecretError   string
	RenameError   string
	Backfill      backfill.Status
	BackfillError string
	DailyError    string
}

// routeSummary is a campaign route with its portal's domain.
type routeSummary struct {
	CampaignID string
	Domain     string
}

// Source is a source's overview.
func (h *Pages) Source(c *gin.Context, src tenants.Source) error {
	return h.renderSource(c, http.StatusOK, src, sourcePageView{TestEmail: auth.PrincipalOf(c).Email})
}

// renderSource renders the source overview; v carries form input and
// errors when a form is shown again.
func (h *Pages) renderSource(c *gin.Context, status int, src tenants.Source, v sourcePageView) error {
	ctx := c.Request.Context()
	sc, err := h.sourceContext(ctx, src, "overview")
	if err != nil {
		return err
	}
	if v.Trend, err = h.sourceTrend(ctx, src); err != nil {
		return err
	}
	last, err := h.ws.Events.LastPayload(ctx, src)
	if err != nil {
		return err
	}
	if last != nil {
		ev := h.ws.Events.View(*last)
		v.Last = &ev
	}
	domains := map[int64]string{sc.Portal.HubID: sc.Portal.Domain} // each portal read once
	for _, r := range src.Routes {
		d, ok := domains[r.HubID]
		if !ok {
			d = fmt.Sprint(r.HubID)
			if p, err := h.ws.Portals.Load(ctx, src.WorkspaceID, r.HubID); err == nil {
				d = p.Domain
			}
			domains[r.HubID] = d
		}
		v.Routes = append(v.Routes, routeSummary{CampaignID: r.CampaignID, Domain: d})
	}
	if v.Backfill, err = h.Backfill.Status(ctx, src); err != nil {
		return err
	}
	v.Ctx, v.Curl, v.DefaultHeader = sc, ingest.CurlSample(sc.Source.WebhookURL), tenants.DefaultSecretHeader
	h.renderSourcePage(c, status, "source.html", "", sc, v)
	return nil
}

// showAgain renders the source page again with a refused form's error, or
// returns anything unexpected for the error page.
func (h *Pages) showAgain(c *gin.Context, src tenants.Source, err error, v sourcePageView, set func(*sourcePageView, string)) error {
	e := apperr.As(err)
	if apperr.Status(e.Code) >= 500 && e.Code != apperr.Upstream {
		return err
	}
	set(&v, e.Message)
	return h.renderSource(c, apperr.Status(e.Code), src, v)
}

// RenameSource renames the source.
func (h *Pages) RenameSource(c *gin.Context, src tenants.Source) error {
	name := c.PostForm("name")
	if _, err := h.ws.Sources.Patch(c.Request.Context(), auth.PrincipalOf(c).Member, src, workspace.SourcePatch{Name: &name}); err != nil {
		return h.showAgain(c, src, err, sourcePageView{TestEmail: auth.PrincipalOf(c).Email},
			func(v *sourcePageView, m string) { v.RenameError = m })
	}
	return h.redirectFlash(c, sourceURL(src.ID, ""), "Source renamed.", false)
}

// DeleteSource deletes the source once the admin ticked the box.
func (h *Pages) DeleteSource(c *gin.Context, src tenants.Source) error {
	if c.PostForm("confirm") != "yes" {
		return h.redirectFlash(c, sourceURL(src.ID, "")+"#settings", "Tick the box to confirm that the source and its webhook URL should be deleted.", true)
	}
	if err := h.ws.Sources.Delete(c.Request.Context(), src); err != nil {
		return err
	}
	return h.redirectFlash(c, fmt.Sprintf("/app/portals/%d", src.HubID), "Deleted the source "+src.Name+
		": its webhook URL no longer accepts signups.", false)
}

// RotateURL gives the source a new webhook URL.
func (h *Pages) RotateURL(c *gin.Context, src tenants.Source) error {
	if _, err := h.ws.Sources.Rotate(c.Request.Context(), src); err != nil {
		return err
	}
	return h.redirectFlash(c, sourceURL(src.ID, "")+"#webhook", "The source has a new webhook URL and the old one no longer works: "+
		"paste the new URL into Referral Factory now.", false)
}

// CreateSecret gives the source a new shared secret and shows it once.
func (h *Pages) CreateSecret(c *gin.Context, src tenants.Source) error {
	saved, err := h.ws.Sources.SetSecret(c.Request.Context(), src, strings.TrimSpace(c.PostForm("header")))
	if err != nil {
		return h.showAgain(c, src, err, sourcePageView{TestEmail: auth.PrincipalOf(c).Email},
			func(v *sourcePageView, m string) { v.SecretError = m })
	}
	// Rendered at once rather than redirected: the secret is shown on this
	// response only and never travels through a flash message.
	return h.renderSource(c, http.StatusOK, saved, sourcePageView{TestEmail: auth.PrincipalOf(c).Email, NewSecret: saved.Secret})
}

// DeleteSecret stops requiring a shared secret.
func (h *Pages) DeleteSecret(c *gin.Context, src tenants.Source) error {
	if _, err := h.ws.Sources.RemoveSecret(c.Request.Context(), src); err != nil {
		return err
	}
	return h.redirectFlash(c, sourceURL(src.ID, "")+"#secret", "The shared secret is removed: the webhook URL alone authenticates Referral Factory again. "+
		"Remove the header from the webhook in Referral Factory too.", false)
}

// TestSignup sends a test signup and shows what became of it.
func (h *Pages) TestSignup(c *gin.Context, src tenants.Source) error {
	email := strings.TrimSpace(c.PostForm("email"))
	ev, err := h.ws.Sources.TestSignup(c.Request.Context(), src, email)
	if err != nil {
		return h.showAgain(c, src, err, sourcePageView{TestEmail: email},
			func(v *sourcePageView, m string) { v.TestError = m })
	}
	msg := "Test signup sent as " + ev.Email + ". This page shows what HubSpot made of it."
	if note := workspace.NotSentNote(src, ev); note != "" {
		msg = "Test signup sent as " + ev.Email + ". " + note
	}
	return h.redirectFlash(c, sourceURL(src.ID, "events/"+ev.ID), msg, false)
}
