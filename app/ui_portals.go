package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/tenants"
)

// portalsPerPage is how many portals the workspace home lists per page.
const portalsPerPage = 25

// homeView is the workspace home: one page of the workspace's portals.
type homeView struct {
	Portals          []portalSummary
	Query            string
	Total, Workspace int // portals matching the search, and in all
	Page, Pages      int
	From, To         int
	PrevURL, NextURL string
	Redis            []DurabilityProblem // settings of refhub's Redis under which accepted signups can be lost
}

func (a *App) uiHome(c *gin.Context) {
	ctx := c.Request.Context()
	ws := principal(c).WorkspaceID
	all, err := a.store.Portals(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	srcs, err := a.store.Sources(ctx, ws)
	if err != nil {
		_ = c.Error(err)
		return
	}
	q := strings.TrimSpace(c.Query("q"))
	kept := filterPortals(all, q)
	total, pages := len(kept), max(1, (len(kept)+portalsPerPage-1)/portalsPerPage)
	// A page past the last (or no number at all) shows the nearest one: a
	// link kept from a larger workspace still leads somewhere.
	pageNo, err := strconv.Atoi(c.Query("page"))
	if err != nil {
		pageNo = 1
	}
	pageNo = min(max(pageNo, 1), pages)
	shown := pageOf(kept, pageNo, portalsPerPage)
	sums, err := a.summarizePortals(ctx, shown, srcs)
	if err != nil {
		_ = c.Error(err)
		return
	}
	v := homeView{Portals: sums, Query: q, Total: total, Workspace: len(all), Page: pageNo, Pages: pages,
		Redis: a.RedisDurability().Problems}
	if len(shown) > 0 {
		v.From = (pageNo-1)*portalsPerPage + 1
		v.To = v.From + len(shown) - 1
	}
	link := func(n int) string {
		vals := url.Values{"page": {strconv.Itoa(n)}}
		if q != "" {
			vals.Set("q", q)
		}
		return "/app/?" + vals.Encode()
	}
	if pageNo > 1 {
		v.PrevURL = link(min(pageNo-1, v.Pages))
	}
	if pageNo < v.Pages {
		v.NextURL = link(pageNo + 1)
	}
	a.render(c, http.StatusOK, "home.html", page{Title: "Your portals", Nav: "portals", Data: v})
}

// portalPageView is one portal with the sources that send to it.
type portalPageView struct {
	Summary     portalSummary
	Sources     []portalSource
	Removed     []string // names of the sources deleting the portal removes
	ReconnectTo string
	NewName     string
	CreateError string
	DeleteError string
}

// portalSource is a source as the portal page lists it.
type portalSource struct {
	Source    sourceView
	Default   bool     // the portal is the source's default portal
	Campaigns []string // campaigns routed to the portal
}

func (a *App) uiPortal(c *gin.Context, p tenants.Portal) {
	a.renderPortal(c, http.StatusOK, p, portalPageView{})
}

// renderPortal renders the portal page; v carries form input and errors
// when a form is shown again.
func (a *App) renderPortal(c *gin.Context, status int, p tenants.Portal, v portalPageView) {
	ctx := c.Request.Context()
	srcs, err := a.store.Sources(ctx, p.WorkspaceID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	sums, err := a.summarizePortals(ctx, []tenants.Portal{p}, srcs)
	if err != nil {
		_ = c.Error(err)
		return
	}
	v.Summary = sums[0]
	v.ReconnectTo = reconnectURL(p.HubID)
	v.Sources, v.Removed = portalSources(a, srcs, p.HubID)
	a.render(c, status, "portal.html", page{Title: p.Domain, Nav: "portals",
		Crumbs: []crumb{{"Portals", "/app/"}}, Data: v})
}

// portalSources lists the sources sending to hub and the names of those
// whose default portal it is.
func portalSources(a *App, srcs []tenants.Source, hub int64) ([]portalSource, []string) {
	var out []portalSource
	var removed []string
	for _, s := range srcs {
		ps := portalSource{Source: a.viewSource(s), Default: s.HubID == hub}
		for _, r := range s.Routes {
			if r.HubID == hub {
				ps.Campaigns = append(ps.Campaigns, r.CampaignID)
			}
		}
		if !ps.Default && len(ps.Campaigns) == 0 {
			continue
		}
		if ps.Default {
			removed = append(removed, s.Name)
		}
		out = append(out, ps)
	}
	return out, removed
}

// reconnectURL runs the install again and comes back to the portal page.
func reconnectURL(hub int64) string {
	return "/oauth/install?return_to=" + url.QueryEscape(fmt.Sprintf("/app/portals/%d", hub))
}

func (a *App) uiCreateSource(c *gin.Context, p tenants.Portal) {
	src, err := a.createSource(c, p, c.PostForm("name"))
	if err != nil {
		e := apperr.As(err)
		if apperr.Status(e.Code) >= 500 {
			_ = c.Error(err)
			return
		}
		a.renderPortal(c, apperr.Status(e.Code), p, portalPageView{NewName: c.PostForm("name"), CreateError: e.Message})
		return
	}
	a.redirectFlash(c, sourceURL(src.ID, ""), "Source created. Paste its webhook URL into Referral Factory as shown below, then map the fields.", false)
}

func (a *App) uiDisconnect(c *gin.Context, p tenants.Portal) {
	if _, err := a.disconnectPortal(c.Request.Context(), p); err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, fmt.Sprintf("/app/portals/%d", p.HubID), "Disconnected "+p.Domain+
		": refhub no longer holds a token for it. Signups are kept and delivered after you reconnect.", false)
}

func (a *App) uiDeletePortal(c *gin.Context, p tenants.Portal) {
	typed := strings.TrimSpace(c.PostForm("confirm_domain"))
	if !strings.EqualFold(typed, p.Domain) {
		msg := "Type the portal's domain, " + p.Domain + ", to confirm the deletion."
		if typed != "" {
			msg = "That is not this portal's domain. Type " + p.Domain + " to confirm the deletion."
		}
		a.renderPortal(c, http.StatusUnprocessableEntity, p, portalPageView{DeleteError: msg})
		return
	}
	if err := a.deletePortal(c.Request.Context(), p); err != nil {
		_ = c.Error(err)
		return
	}
	a.redirectFlash(c, "/app/", "Deleted "+p.Domain+" from refhub, with its sources, queued signups, activity and dead letters. "+
		"Contacts already in HubSpot were not touched.", false)
}

// sourceURL is the page of a source, or one of its sub-pages ("mapping").
func sourceURL(id, sub string) string {
	u := "/app/sources/" + url.PathEscape(id)
	if sub != "" {
		u += "/" + sub
	}
	return u
}

// workspacePortals lists the workspace's portals (for portal selects).
func (a *App) workspacePortals(ctx context.Context, ws string) ([]tenants.Portal, error) {
	ps, err := a.store.Portals(ctx, ws)
	if err != nil {
		return nil, err
	}
	return filterPortals(ps, ""), nil
}
