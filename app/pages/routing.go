package pages

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/auth"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/tenants"
)

// routeRow is one campaign route of the routing form.
type routeRow struct {
	CampaignID string
	Orig       string // campaign id as saved, to keep the route's mapping
	HubID      int64
	Saved      bool
	Fields     int // fields the route's mapping maps
}

// routingView is a source's campaign routing: its default portal and the
// campaigns sent elsewhere.
type routingView struct {
	Ctx      sourceCtx
	Portals  []tenants.Portal
	Routes   []routeRow
	Problems []string
	Unsaved  bool
}

// Routing is a source's campaign routing.
func (h *Pages) Routing(c *gin.Context, src tenants.Source) error {
	var rows []routeRow
	for _, r := range src.Routes {
		rows = append(rows, routeRow{CampaignID: r.CampaignID, Orig: r.CampaignID, HubID: r.HubID, Saved: true,
			Fields: len(r.Mapping.Fields)})
	}
	return h.renderRouting(c, http.StatusOK, src, routingView{Routes: rows})
}

func (h *Pages) renderRouting(c *gin.Context, status int, src tenants.Source, v routingView) error {
	ctx := c.Request.Context()
	sc, err := h.sourceContext(ctx, src, "routes")
	if err != nil {
		return err
	}
	if v.Portals, _, err = h.ws.Portals.Search(ctx, src.WorkspaceID, auth.PrincipalOf(c).Member, ""); err != nil {
		return err
	}
	v.Ctx = sc
	v.Routes = append(v.Routes, routeRow{})
	h.renderSourcePage(c, status, "routing.html", "Campaign routing", sc, v)
	return nil
}

// routingForm reads the route rows, without the one a Remove button asked
// to drop and without empty ones.
func routingForm(c *gin.Context, src tenants.Source) ([]routeRow, []string) {
	ids, hubs, origs := c.PostFormArray("campaign_id"), c.PostFormArray("hub_id"), c.PostFormArray("orig")
	drop, _ := strconv.Atoi(c.DefaultPostForm("remove_route", "-1"))
	var rows []routeRow
	var probs []string
	for i := 0; i < min(len(ids), len(hubs), len(origs)); i++ {
		id, hub := strings.TrimSpace(ids[i]), strings.TrimSpace(hubs[i])
		if i == drop || id == "" && hub == "" {
			continue
		}
		r := routeRow{CampaignID: id, Orig: origs[i]}
		r.HubID, _ = strconv.ParseInt(hub, 10, 64)
		if r.HubID == 0 {
			probs = append(probs, fmt.Sprintf("route %d: choose the portal that campaign %s goes to", len(rows)+1, id))
		}
		if idx, err := routeIndex(src, r.Orig); err == nil && idx >= 0 {
			r.Saved, r.Fields = true, len(src.Routes[idx].Mapping.Fields)
		}
		rows = append(rows, r)
	}
	return rows, probs
}

// SaveRoutes saves the routing form, or adds or removes a row of it.
func (h *Pages) SaveRoutes(c *gin.Context, src tenants.Source) error {
	rows, probs := routingForm(c, src)
	if c.PostForm("action") == "add-route" || c.PostForm("remove_route") != "" {
		if c.PostForm("action") == "add-route" {
			rows = append(rows, routeRow{})
		}
		return h.renderRouting(c, http.StatusOK, src, routingView{Routes: rows, Unsaved: true})
	}
	if len(probs) == 0 {
		routes := make([]tenants.Route, 0, len(rows))
		for _, r := range rows {
			routes = append(routes, tenants.Route{CampaignID: r.CampaignID, HubID: r.HubID, Mapping: routeMapping(src, r.Orig)})
		}
		_, err := h.ws.Sources.SaveRoutes(c.Request.Context(), auth.PrincipalOf(c).Member, src, routes)
		if err == nil {
			return h.redirectFlash(c, sourceURL(src.ID, "routes"), "Campaign routes saved.", false)
		}
		if e := apperr.As(err); e.Code != apperr.Unprocessable {
			return err
		}
		probs = []string{apperr.As(err).Message}
	}
	return h.renderRouting(c, http.StatusUnprocessableEntity, src, routingView{Routes: rows, Problems: probs, Unsaved: true})
}

// routeMapping keeps a saved route's own mapping; a new route starts as a
// copy of the source's default mapping.
func routeMapping(src tenants.Source, orig string) tenants.Mapping {
	idx, err := routeIndex(src, orig)
	if err != nil {
		idx = -1
	}
	m, _ := mappingOf(src, idx)
	return m
}

// DefaultPortal moves the source's default route to another portal.
func (h *Pages) DefaultPortal(c *gin.Context, src tenants.Source) error {
	hub, err := strconv.ParseInt(c.PostForm("hub_id"), 10, 64)
	if err != nil {
		return h.redirectFlash(c, sourceURL(src.ID, "routes"), "Choose the default portal.", true)
	}
	if _, err := h.ws.Sources.Patch(c.Request.Context(), auth.PrincipalOf(c).Member, src, workspace.SourcePatch{HubID: &hub}); err != nil {
		return h.redirectError(c, sourceURL(src.ID, "routes"), err)
	}
	return h.redirectFlash(c, sourceURL(src.ID, "routes"), "Default portal saved: signups of campaigns without a route now go there.", false)
}
