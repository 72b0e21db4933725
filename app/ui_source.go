package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// sourceCtx is what every page of a source shows around its content: the
// source, its default portal, and which tab is current.
type sourceCtx struct {
	Source    sourceView
	Portal    tenants.Portal
	Tab       string
	OverQuota string // why Referral Factory's requests are refused, if they are
}

// sourceContext loads what the source pages share.
func (a *App) sourceContext(ctx context.Context, src tenants.Source, tab string) (sourceCtx, error) {
	p, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, src.HubID)
	if err != nil {
		return sourceCtx{}, err
	}
	b, err := a.quota.view(ctx, src)
	if err != nil {
		return sourceCtx{}, err
	}
	return sourceCtx{Source: a.viewSource(src), Portal: p, Tab: tab, OverQuota: b.OverQuota}, nil
}

// renderSourcePage renders one of a source's pages with its breadcrumbs;
// title names the tab ("" for the overview).
func (a *App) renderSourcePage(c *gin.Context, status int, tmpl, title string, sc sourceCtx, data any) {
	crumbs := []crumb{{"Portals", "/app/"}, {sc.Portal.Domain, fmt.Sprintf("/app/portals/%d", sc.Portal.HubID)}}
	full := sc.Source.Name
	if title != "" {
		crumbs = append(crumbs, crumb{sc.Source.Name, sourceURL(sc.Source.ID, "")})
		full = title + " · " + sc.Source.Name
	}
	a.render(c, status, tmpl, page{Title: full, Nav: "portals", Crumbs: crumbs, Data: data})
}

// sourcePageView is a source's overview: webhook URL, Referral Factory
// instructions, shared secret, test signup and last payload.
type sourcePageView struct {
	Ctx           sourceCtx
	Routes        []routeSummary
	Last          *eventView
	Curl          string
	DefaultHeader string
	NewSecret     string // shown once, right after it was generated
	TestEmail     string
	TestError     string
	SecretError   string
	RenameError   string
}

// routeSummary is a campaign route with its portal's domain.
type routeSummary struct {
	CampaignID string
	Domain     string
}

func (a *App) uiSource(c *gin.Context, src tenants.Source) {
	a.renderSource(c, http.StatusOK, src, sourcePageView{TestEmail: principal(c).Email})
}

// renderSource renders the source overview; v carries form input and
// errors when a form is shown again.
func (a *App) renderSource(c *gin.Context, status int, src tenants.Source, v sourcePageView) {
	ctx := c.Request.Context()
	sc, err := a.sourceContext(ctx, src, "overview")
	if err != nil {
		_ = c.Error(err)
		return
	}
	last, err := a.lastPayload(ctx, src)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if last != nil {
		ev := a.viewEvent(*last)
		v.Last = &ev
	}
	domains := map[int64]string{sc.Portal.HubID: sc.Portal.Domain} // each portal read once
	for _, r := range src.Routes {
		d, ok := domains[r.HubID]
		if !ok {
			d = fmt.Sprint(r.HubID)
			if p, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, r.HubID); err == nil {
				d = p.Domain
			}
			domains[r.HubID] = d
		}
		v.Routes = append(v.Routes, routeSummary{CampaignID: r.CampaignID, Domain: d})
	}
	v.Ctx, v.Curl, v.DefaultHeader = sc, CurlSample(sc.Source.WebhookURL), DefaultSecretHeader
	a.renderSourcePage(c, status, "source.html", "", sc, v)
}

// showAgain renders the source page again with a refused form's error, or
// the error page for anything unexpected.
func (a *App) showAgain(c *gin.Context, src tenants.Source, err error, v sourcePageView, set func(*sourcePageView, string)) {
	e := apperr.As(err)
	if apperr.Status(e.Code) >= 500 && e.Code != apperr.Upstream {
		_ = c.Error(err)
		return
	}
	set(&v, e.Message)
	a.renderSource(c, apperr.Status(e.Code), src, v)
}

func (a *App) uiRenameSource(c *gin.Context, src tenants.Source) {
	name := c.PostForm("name")
	if _, err := a.patchSource(c.Request.Context(), src, &name, nil); err != nil {
		a.showAgain(c, src, err, sourcePageView{TestEmail: principal(c).Email},
			func(v *sourcePageView, m string) { v.RenameError = m })
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, ""), "Source renamed.", false)
}

func (a *App) uiDeleteSource(c *gin.Context, src tenants.Source) {
	if c.PostForm("confirm") != "yes" {
		a.redirectFlash(c, sourceURL(src.ID, "")+"#settings", "Tick the box to confirm that the source and its webhook URL should be deleted.", true)
		return
	}
	if err := a.deleteSource(c.Request.Context(), src); err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, fmt.Sprintf("/app/portals/%d", src.HubID), "Deleted the source "+src.Name+
		": its webhook URL no longer accepts signups.", false)
}

func (a *App) uiRotateURL(c *gin.Context, src tenants.Source) {
	_, err := a.sources.Rotate(c.Request.Context(), src)
	if err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, "")+"#webhook", "The source has a new webhook URL and the old one no longer works: "+
		"paste the new URL into Referral Factory now.", false)
}

func (a *App) uiCreateSecret(c *gin.Context, src tenants.Source) {
	saved, err := a.setSourceSecret(c.Request.Context(), src, strings.TrimSpace(c.PostForm("header")))
	if err != nil {
		a.showAgain(c, src, err, sourcePageView{TestEmail: principal(c).Email},
			func(v *sourcePageView, m string) { v.SecretError = m })
		return
	}
	// Rendered at once rather than redirected: the secret is shown on this
	// response only and never travels through a flash message.
	a.renderSource(c, http.StatusOK, saved, sourcePageView{TestEmail: principal(c).Email, NewSecret: saved.Secret})
}

func (a *App) uiDeleteSecret(c *gin.Context, src tenants.Source) {
	if _, err := a.removeSourceSecret(c.Request.Context(), src); err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, "")+"#secret", "The shared secret is removed: the webhook URL alone authenticates Referral Factory again. "+
		"Remove the header from the webhook in Referral Factory too.", false)
}

func (a *App) uiTestSignup(c *gin.Context, src tenants.Source) {
	email := strings.TrimSpace(c.PostForm("email"))
	ev, err := a.sendTestSignup(c.Request.Context(), src, email)
	if err != nil {
		a.showAgain(c, src, err, sourcePageView{TestEmail: email},
			func(v *sourcePageView, m string) { v.TestError = m })
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, "events/"+ev.ID), "Test signup sent as "+ev.Email+
		". This page shows what HubSpot made of it.", false)
}
