package pages

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

// leadsURL is the Leads tab of the mapping editor.
func leadsURL(srcID string) string { return sourceURL(srcID, "mapping") + "?kind=leads" }

// leadsView starts the Leads tab's view: the lead mapping, or the referrer
// mapping while no lead mapping is saved, and the source's lead rule.
func leadsView(src tenants.Source) (*mappingView, tenants.Mapping) {
	v := &mappingView{Leads: true, LeadsFallback: src.LeadMapping == nil}
	if r := src.LeadRule; r != nil {
		v.RuleField, v.RuleValues = r.Field, strings.Join(r.Values, ", ")
	}
	if src.LeadMapping != nil {
		return v, *src.LeadMapping
	}
	return v, src.Mapping
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

// Mapping is the editor of a source's default mapping, or of a route's
// (?route=).
func (h *Pages) Mapping(c *gin.Context, src tenants.Source) error {
	if c.Query("kind") == "leads" {
		v, m := leadsView(src)
		v.Refreshed = c.Query("refresh") != ""
		return h.renderMapping(c, http.StatusOK, src, src.HubID, inputOf(m), v)
	}
	route := c.Query("route")
	idx, err := routeIndex(src, route)
	if err != nil {
		return err
	}
	m, hub := mappingOf(src, idx)
	v := &mappingView{Route: route, Refreshed: c.Query("refresh") != ""}
	return h.renderMapping(c, http.StatusOK, src, hub, inputOf(m), v)
}

// renderMapping renders the editor for in (the saved mapping, or the
// admin's input shown again) with problems attached to their rows.
func (h *Pages) renderMapping(c *gin.Context, status int, src tenants.Source, hub int64, in mappingInput, v *mappingView) error {
	ctx := c.Request.Context()
	sc, err := h.sourceContext(ctx, src, "mapping")
	if err != nil {
		return err
	}
	d, err := h.loadMappingData(ctx, src, hub, v.Refreshed, v)
	if err != nil {
		return err
	}
	d.fill(v, in)
	attachProblems(v.Problems, "field", v.Fields)
	v.Ctx, v.Domain = sc, sc.Portal.Domain
	if hub != sc.Portal.HubID {
		v.Domain = strconv.FormatInt(hub, 10)
		if p, err := h.ws.Portals.Load(ctx, src.WorkspaceID, hub); err == nil {
			v.Domain = p.Domain
		}
	}
	title := "Mapping"
	if v.Leads {
		title = "Lead mapping"
	}
	if v.Route != "" {
		title = "Mapping for campaign " + v.Route
	}
	h.renderSourcePage(c, status, "mapping.html", title, sc, v)
	return nil
}

// attachProblems shows "<row> N: …" problems (row "field", or "deal
// field") next to row N of fields as well.
func attachProblems(problems []string, row string, fields []fieldRow) {
	for _, p := range problems {
		rest, ok := strings.CutPrefix(p, row+" ")
		var n int
		if _, err := fmt.Sscanf(rest, "%d:", &n); ok && err == nil && n >= 1 && n <= len(fields) {
			fields[n-1].Problem = strings.TrimSpace(p[strings.Index(p, ":")+1:])
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

// editRows applies an editor's row button (add a field or a default-value
// row; a removed row mappingForm left out already) and reports whether
// the form asked for one rather than to save.
func editRows(c *gin.Context, in *mappingInput) bool {
	switch {
	case c.PostForm("action") == "add-field":
		in.Fields = append(in.Fields, tenants.FieldMap{})
	case c.PostForm("action") == "add-default":
		in.Defaults = append(in.Defaults, [2]string{})
	default:
		return c.PostForm("remove_field") != "" || c.PostForm("remove_default") != ""
	}
	return true
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

// SaveMapping saves the editor's mapping, or adds or removes a row of it
// (the editor works without JavaScript).
func (h *Pages) SaveMapping(c *gin.Context, src tenants.Source) error {
	leads := c.PostForm("kind") == "leads"
	route := c.PostForm("route")
	if leads {
		route = ""
	}
	idx, err := routeIndex(src, route)
	if err != nil {
		return err
	}
	_, hub := mappingOf(src, idx)
	in := mappingForm(c)
	v := &mappingView{Route: route, Unsaved: true}
	back := mappingURL(src.ID, route)
	if leads {
		v, _ = leadsView(src)
		v.Unsaved, back = true, leadsURL(src.ID)
	}
	switch {
	case leads && c.PostForm("action") == "remove-lead-mapping":
		if _, err := h.ws.Sources.SaveLeadMapping(c.Request.Context(), src, nil); err != nil {
			return h.redirectError(c, back, err)
		}
		return h.redirectFlash(c, back, "Lead mapping removed: leads are delivered with the referrer mapping again, and still linked to their referrer.", false)
	case editRows(c, &in):
		return h.renderMapping(c, http.StatusOK, src, hub, in, v)
	}
	m, probs := buildMapping(in)
	var ve *tenants.ValidationError
	if err := m.Validate(); errors.As(err, &ve) {
		probs = append(ve.Problems, probs...)
	}
	if len(probs) == 0 {
		save := func() error { _, err := h.ws.Sources.SaveMapping(c.Request.Context(), src, idx, m); return err }
		if leads {
			save = func() error { _, err := h.ws.Sources.SaveLeadMapping(c.Request.Context(), src, &m); return err }
		}
		if err := save(); err != nil {
			if e := apperr.As(err); e.Code != apperr.Unprocessable {
				return err
			}
			probs = []string{apperr.As(err).Message}
		}
	}
	if len(probs) > 0 {
		v.Problems = probs
		return h.renderMapping(c, http.StatusUnprocessableEntity, src, hub, in, v)
	}
	return h.redirectFlash(c, back, "Mapping saved. Send a test signup from the source page to see it work end to end.", false)
}

// SaveLeadRule saves how the source tells leads from referrers, or
// returns it to the built-in rule (action=reset).
func (h *Pages) SaveLeadRule(c *gin.Context, src tenants.Source) error {
	var rule *tenants.LeadRule
	if c.PostForm("action") != "reset" {
		rule = &tenants.LeadRule{Field: c.PostForm("rule_field"), Values: strings.Split(c.PostForm("rule_values"), ",")}
	}
	_, err := h.ws.Sources.SaveLeadRule(c.Request.Context(), src, rule)
	var ve *tenants.ValidationError
	if errors.As(err, &ve) {
		v, m := leadsView(src)
		v.RuleField, v.RuleValues, v.RuleProblems = c.PostForm("rule_field"), c.PostForm("rule_values"), ve.Problems
		return h.renderMapping(c, http.StatusUnprocessableEntity, src, src.HubID, inputOf(m), v)
	}
	if err != nil {
		return err
	}
	if rule == nil {
		return h.redirectFlash(c, leadsURL(src.ID), "Leads are told from referrers by the built-in rule again.", false)
	}
	return h.redirectFlash(c, leadsURL(src.ID), "Lead rule saved: new signups are sorted by it.", false)
}

// Recommended creates the recommended properties and maps them.
func (h *Pages) Recommended(c *gin.Context, src tenants.Source) error {
	_, res, err := h.ws.Sources.CreateRecommended(c.Request.Context(), src)
	if err != nil {
		return h.redirectError(c, mappingURL(src.ID, ""), err)
	}
	var b strings.Builder
	if len(res.Created) > 0 {
		fmt.Fprintf(&b, "Created %d properties in the %q group: %s. ", len(res.Created), properties.RecommendedGroup.Label, strings.Join(res.Created, ", "))
	}
	if len(res.Existed) > 0 {
		fmt.Fprintf(&b, "Already in the portal, left as they were: %s. ", strings.Join(res.Existed, ", "))
	}
	b.WriteString("Each one is mapped below: check which Referral Factory field feeds it.")
	return h.redirectFlash(c, mappingURL(src.ID, ""), b.String(), false)
}
