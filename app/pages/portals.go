package pages

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/redisconn"
	"github.com/refhub/refhub/app/web"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// portalsPerPage is how many portals the workspace home lists per page.
const portalsPerPage = 25

// homeView is the workspace home: one page of the workspace's portals.
type homeView struct {
	Portals          []homeRow
	Query            string
	Total, Workspace int // portals matching the search, and in all
	Page, Pages      int
	From, To         int
	PrevURL, NextURL string
	Redis            []redisconn.Problem // settings of refhub's Redis under which accepted signups can be lost
}

// Home is the workspace home: its portals, searched and a page at a time.
func (h *Pages) Home(c *gin.Context) error {
	ctx := c.Request.Context()
	who := auth.PrincipalOf(c)
	ws := who.WorkspaceID
	q := strings.TrimSpace(c.Query("q"))
	kept, all, err := h.ws.Portals.Search(ctx, ws, who.Member, q)
	if err != nil {
		return err
	}
	srcs, err := h.ws.Sources.List(ctx, ws, who.Member)
	if err != nil {
		return err
	}
	total, pages := len(kept), max(1, (len(kept)+portalsPerPage-1)/portalsPerPage)
	// A page past the last (or no number at all) shows the nearest one: a
	// link kept from a larger workspace still leads somewhere.
	pageNo, err := strconv.Atoi(c.Query("page"))
	if err != nil {
		pageNo = 1
	}
	pageNo = min(max(pageNo, 1), pages)
	shown := web.PageOf(kept, pageNo, portalsPerPage)
	sums, err := h.ws.Portals.Summarize(ctx, shown, srcs)
	if err != nil {
		return err
	}
	rows, err := h.homeRows(ctx, sums)
	if err != nil {
		return err
	}
	v := homeView{Portals: rows, Query: q, Total: total, Workspace: all, Page: pageNo, Pages: pages,
		Redis: h.RedisProblems()}
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
	h.render(c, http.StatusOK, "home.html", page{Title: "Your portals", Nav: "portals", Data: v})
	return nil
}

// portalPageView is one portal with the sources that send to it.
type portalPageView struct {
	Summary     workspace.PortalSummary
	Trend       trendView
	Sources     []portalSource
	Removed     []string // names of the sources deleting the portal removes
	ReconnectTo string
	NewName     string
	CreateError string
	DeleteError string
}

// portalSource is a source as the portal page lists it.
type portalSource struct {
	Source    workspace.SourceView
	Default   bool     // the portal is the source's default portal
	Campaigns []string // campaigns routed to the portal
}

// Portal is one portal's page.
func (h *Pages) Portal(c *gin.Context, p tenants.Portal) error {
	return h.renderPortal(c, http.StatusOK, p, portalPageView{})
}

// renderPortal renders the portal page; v carries form input and errors
// when a form is shown again.
func (h *Pages) renderPortal(c *gin.Context, status int, p tenants.Portal, v portalPageView) error {
	ctx := c.Request.Context()
	sum, srcs, err := h.ws.Portals.Summary(ctx, p, auth.PrincipalOf(c).Member)
	if err != nil {
		return err
	}
	if v.Trend, err = h.portalTrend(ctx, p); err != nil {
		return err
	}
	v.Summary = sum
	v.ReconnectTo = reconnectURL(p.HubID)
	v.Sources, v.Removed = h.portalSources(srcs, p.HubID)
	h.render(c, status, "portal.html", page{Title: p.Domain, Nav: "portals",
		Crumbs: []crumb{{"Portals", "/app/"}}, Data: v})
	return nil
}

// portalSources lists the sources sending to hub and the names of those
// whose default portal it is.
func (h *Pages) portalSources(srcs []tenants.Source, hub int64) ([]portalSource, []string) {
	var out []portalSource
	var removed []string
	for _, s := range srcs {
		ps := portalSource{Source: h.ws.Sources.View(s), Default: s.HubID == hub}
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

// CreateSource adds a source sending to the portal.
func (h *Pages) CreateSource(c *gin.Context, p tenants.Portal) error {
	src, err := h.ws.Sources.Create(c.Request.Context(), p, c.PostForm("name"))
	if err != nil {
		e := apperr.As(err)
		if apperr.Status(e.Code) >= 500 {
			return err
		}
		return h.renderPortal(c, apperr.Status(e.Code), p, portalPageView{NewName: c.PostForm("name"), CreateError: e.Message})
	}
	return h.redirectFlash(c, sourceURL(src.ID, ""), "Source created. Paste its webhook URL into Referral Factory as shown below, then map the fields.", false)
}

// Disconnect disconnects the portal.
func (h *Pages) Disconnect(c *gin.Context, p tenants.Portal) error {
	if _, err := h.ws.Portals.Disconnect(c.Request.Context(), p); err != nil {
		return err
	}
	return h.redirectFlash(c, fmt.Sprintf("/app/portals/%d", p.HubID), "Disconnected "+p.Domain+
		": refhub no longer holds a token for it. Signups are kept and delivered after you reconnect.", false)
}

// DeletePortal deletes the portal once the admin typed its domain.
func (h *Pages) DeletePortal(c *gin.Context, p tenants.Portal) error {
	typed := strings.TrimSpace(c.PostForm("confirm_domain"))
	if !strings.EqualFold(typed, p.Domain) {
		msg := "Type the portal's domain, " + p.Domain + ", to confirm the deletion."
		if typed != "" {
			msg = "That is not this portal's domain. Type " + p.Domain + " to confirm the deletion."
		}
		return h.renderPortal(c, http.StatusUnprocessableEntity, p, portalPageView{DeleteError: msg})
	}
	if err := h.ws.Portals.Delete(c.Request.Context(), p); err != nil {
		return err
	}
	return h.redirectFlash(c, "/app/", "Deleted "+p.Domain+" from refhub, with its sources, queued signups, activity and dead letters. "+
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
