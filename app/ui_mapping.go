package app

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/tenants"
)

// mappingURL is the editor of a source's default mapping (route "") or of
// a campaign route's mapping.
func mappingURL(srcID, route string) string {
	u := sourceURL(srcID, "mapping")
	if route != "" {
		u += "?route=" + url.QueryEscape(route)
	}
	return u
}

// routeIndex finds a campaign route of src; -1 is the default mapping.
func routeIndex(src tenants.Source, route string) (int, error) {
	if route == "" {
		return -1, nil
	}
	for i, r := range src.Routes {
		if r.CampaignID == route {
			return i, nil
		}
	}
	return 0, apperr.New(apperr.NotFound, "this source has no route for campaign "+route)
}

// mappingOf returns the mapping and portal of route index idx.
func mappingOf(src tenants.Source, idx int) (tenants.Mapping, int64) {
	if idx < 0 {
		return src.Mapping, src.HubID
	}
	return src.Routes[idx].Mapping, src.Routes[idx].HubID
}

func (a *App) uiMapping(c *gin.Context, src tenants.Source) {
	route := c.Query("route")
	idx, err := routeIndex(src, route)
	if err != nil {
		_ = c.Error(err)
		return
	}
	m, hub := mappingOf(src, idx)
	v := &mappingView{Route: route, Refreshed: c.Query("refresh") != ""}
	a.renderMapping(c, http.StatusOK, src, hub, inputOf(m), v)
}

// renderMapping renders the editor for in (the saved mapping, or the
// admin's input shown again) with problems attached to their rows.
func (a *App) renderMapping(c *gin.Context, status int, src tenants.Source, hub int64, in mappingInput, v *mappingView) {
	ctx := c.Request.Context()
	sc, err := a.sourceContext(ctx, src, "mapping")
	if err != nil {
		_ = c.Error(err)
		return
	}
	d, err := a.loadMappingData(ctx, src, hub, v.Refreshed, v)
	if err != nil {
		_ = c.Error(err)
		return
	}
	d.fill(v, in)
	attachProblems(v)
	v.Ctx, v.Domain = sc, sc.Portal.Domain
	if hub != sc.Portal.HubID {
		v.Domain = strconv.FormatInt(hub, 10)
		if p, err := a.store.WorkspacePortal(ctx, src.WorkspaceID, hub); err == nil {
			v.Domain = p.Domain
		}
	}
	title := "Mapping"
	if v.Route != "" {
		title = "Mapping for campaign " + v.Route
	}
	a.renderSourcePage(c, status, "mapping.html", title, sc, v)
}

// attachProblems shows "field N: …" problems next to row N as well.
func attachProblems(v *mappingView) {
	for _, p := range v.Problems {
		var n int
		if _, err := fmt.Sscanf(p, "field %d:", &n); err == nil && n >= 1 && n <= len(v.Fields) {
			v.Fields[n-1].Problem = strings.TrimSpace(p[strings.Index(p, ":")+1:])
		}
	}
}

// mappingForm reads the editor's rows, without the one a Remove button
// asked to drop and without empty ones.
func mappingForm(c *gin.Context) mappingInput {
	in := mappingInput{Policy: tenants.Policy(c.PostForm("on_existing"))}
	from, to := c.PostFormArray("from"), c.PostFormArray("to")
	drop, _ := strconv.Atoi(c.DefaultPostForm("remove_field", "-1"))
	for i := 0; i < min(len(from), len(to)); i++ {
		f, t := strings.TrimSpace(from[i]), strings.TrimSpace(to[i])
		if i == drop || f == "" && t == "" {
			continue
		}
		in.Fields = append(in.Fields, tenants.FieldMap{From: f, To: t})
	}
	props, vals := c.PostFormArray("default_property"), c.PostFormArray("default_value")
	drop, _ = strconv.Atoi(c.DefaultPostForm("remove_default", "-1"))
	for i := 0; i < min(len(props), len(vals)); i++ {
		p, v := strings.TrimSpace(props[i]), strings.TrimSpace(vals[i])
		if i == drop || p == "" && v == "" {
			continue
		}
		in.Defaults = append(in.Defaults, [2]string{p, v})
	}
	return in
}

// buildMapping turns the editor's rows into a mapping, with what is wrong
// with the default-value rows (Mapping.Validate checks the rest).
func buildMapping(in mappingInput) (tenants.Mapping, []string) {
	m := tenants.Mapping{Fields: in.Fields, Defaults: map[string]string{}, OnExisting: in.Policy}
	if m.OnExisting == "" {
		m.OnExisting = tenants.Update
	}
	if m.Fields == nil {
		m.Fields = []tenants.FieldMap{}
	}
	var probs []string
	for i, kv := range in.Defaults {
		switch {
		case kv[0] == "":
			probs = append(probs, fmt.Sprintf("default value %d: choose the property to set to %q", i+1, kv[1]))
		case kv[1] == "":
			probs = append(probs, fmt.Sprintf("default value for %q: give a value, or remove the row", kv[0]))
		default:
			if _, dup := m.Defaults[kv[0]]; dup {
				probs = append(probs, fmt.Sprintf("default value for %q is given twice", kv[0]))
			}
			m.Defaults[kv[0]] = kv[1]
		}
	}
	return m, probs
}

func (a *App) uiSaveMapping(c *gin.Context, src tenants.Source) {
	route := c.PostForm("route")
	idx, err := routeIndex(src, route)
	if err != nil {
		_ = c.Error(err)
		return
	}
	_, hub := mappingOf(src, idx)
	in := mappingForm(c)
	v := &mappingView{Route: route, Unsaved: true}
	switch {
	case c.PostForm("action") == "add-field":
		in.Fields = append(in.Fields, tenants.FieldMap{})
		a.renderMapping(c, http.StatusOK, src, hub, in, v)
		return
	case c.PostForm("action") == "add-default":
		in.Defaults = append(in.Defaults, [2]string{})
		a.renderMapping(c, http.StatusOK, src, hub, in, v)
		return
	case c.PostForm("remove_field") != "" || c.PostForm("remove_default") != "":
		a.renderMapping(c, http.StatusOK, src, hub, in, v)
		return
	}
	m, probs := buildMapping(in)
	var ve *tenants.ValidationError
	if err := m.Validate(); errors.As(err, &ve) {
		probs = append(ve.Problems, probs...)
	}
	if len(probs) == 0 {
		if err := a.saveMapping(c.Request.Context(), src, idx, m); err != nil {
			if e := apperr.As(err); e.Code != apperr.Unprocessable {
				_ = c.Error(err)
				return
			}
			probs = []string{apperr.As(err).Message}
		}
	}
	if len(probs) > 0 {
		v.Problems = probs
		a.renderMapping(c, http.StatusUnprocessableEntity, src, hub, in, v)
		return
	}
	a.redirectFlash(c, mappingURL(src.ID, route), "Mapping saved. Send a test signup from the source page to see it work end to end.", false)
}

func (a *App) uiRecommended(c *gin.Context, src tenants.Source) {
	_, res, err := a.createRecommended(c.Request.Context(), src)
	if err != nil {
		a.redirectError(c, mappingURL(src.ID, ""), err)
		return
	}
	var b strings.Builder
	if len(res.Created) > 0 {
		fmt.Fprintf(&b, "Created %d properties in the %q group: %s. ", len(res.Created), properties.RecommendedGroup.Label, strings.Join(res.Created, ", "))
	}
	if len(res.Existed) > 0 {
		fmt.Fprintf(&b, "Already in the portal, left as they were: %s. ", strings.Join(res.Existed, ", "))
	}
	b.WriteString("Each one is mapped below: check which Referral Factory field feeds it.")
	a.redirectFlash(c, mappingURL(src.ID, ""), b.String(), false)
}
