package pages

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// dealForm is the Deals tab's settings as the form shows them.
type dealForm struct {
	Referrers, Leads bool // contact and deal (true) or contact only
	// NoReferrers, NoLeads: nothing is sent to HubSpot for the kind.
	NoReferrers, NoLeads bool
	Pipeline, Stage      string
	Name                 string
}

// dealPreview is what a deal made from the sample signup would be.
type dealPreview struct {
	Name  string
	Props []previewProp
}

// previewProp is one property of the previewed deal.
type previewProp struct {
	Name, Label, Value string
}

// dealsView is a source's Deals tab: whether its referrers and leads also
// become deals, in which pipeline and stage, named how, with which fields.
type dealsView struct {
	Ctx     sourceCtx
	Form    dealForm
	HasDeal bool // the source has deal settings saved
	Choices workspace.DealChoices
	// ChoicesError says why the pickers could not be loaded from HubSpot.
	ChoicesError string
	rowsView
	sampleInfo
	Preview  dealPreview
	Problems []string
	// FieldProblems are problems shown next to a control: "create_for",
	// "pipeline", "stage", "name".
	FieldProblems map[string]string
	Unsaved       bool
	Refreshed     bool // the pipelines and properties were asked of HubSpot again
	// GonePipeline and GoneStage are the form's pipeline and stage when
	// the portal no longer offers them.
	GonePipeline, GoneStage string
}

// dealsURL is a source's Deals tab.
func dealsURL(srcID string) string { return sourceURL(srcID, "deals") }

// defaultDealName is the name template a source starts with.
const defaultDealName = "Referral: {first_name} {last_name} ({campaign_name})"

// Deals is a source's Deals tab.
func (h *Pages) Deals(c *gin.Context, src tenants.Source) error {
	form := dealForm{Leads: src.Sends(true), Name: defaultDealName}
	in := mappingInput{}
	if d := src.Deals; d != nil {
		form = dealForm{Referrers: d.For(false), Leads: d.For(true), Pipeline: d.Pipeline, Stage: d.Stage, Name: d.Name}
		in = inputOf(tenants.Mapping{Fields: d.Fields, Defaults: d.Defaults})
	}
	form.NoReferrers, form.NoLeads = !src.Sends(false), !src.Sends(true)
	return h.renderDeals(c, http.StatusOK, src, form, in, &dealsView{Refreshed: c.Query("refresh") != ""})
}

// renderDeals renders the Deals tab for form and rows in (the saved
// settings, or the admin's input shown again).
func (h *Pages) renderDeals(c *gin.Context, status int, src tenants.Source, form dealForm, in mappingInput, v *dealsView) error {
	ctx := c.Request.Context()
	sc, err := h.sourceContext(ctx, src, "deals")
	if err != nil {
		return err
	}
	v.Ctx, v.Form, v.HasDeal = sc, form, src.Deals != nil
	if v.Choices, err = h.ws.Sources.DealOptions(ctx, src, v.Refreshed); err != nil {
		e := apperr.As(err)
		if e.Code == apperr.Internal {
			return err
		}
		v.ChoicesError = "The deal pipelines and properties could not be loaded from HubSpot: " + e.Message
	}
	if v.Form.Pipeline == "" && len(v.Choices.Pipelines) > 0 {
		v.Form.Pipeline = v.Choices.Pipelines[0].ID
	}
	v.markGone()
	d := mappingData{all: map[string]properties.View{}, writable: v.Choices.Properties, err: v.ChoicesError}
	for _, p := range v.Choices.All() {
		d.all[p.Name] = p
	}
	if err := h.loadSample(ctx, src, &d, &v.sampleInfo); err != nil {
		return err
	}
	v.rowsView = d.rows(in.Fields, in.Defaults)
	v.Target = "Deal property"
	attachProblems(v.Problems, "deal field", v.Fields)
	v.FieldProblems = map[string]string{}
	for _, p := range v.Problems {
		for _, key := range []string{"create_for", "pipeline", "stage", "name"} {
			if rest, ok := strings.CutPrefix(p, key+": "); ok && v.FieldProblems[key] == "" {
				v.FieldProblems[key] = rest
			}
		}
	}
	settings, _ := dealSettings(form, in)
	v.Preview = d.previewDeal(settings)
	h.renderSourcePage(c, status, "deals.html", "Deals", sc, v)
	return nil
}

// markGone notes a pipeline or stage of the form the portal no longer
// offers (deleted or archived in HubSpot since it was saved): the pickers
// show it as such, with a warning, rather than quietly pick another.
func (v *dealsView) markGone() {
	if len(v.Choices.Pipelines) == 0 || v.Form.Stage == "" || workspace.CheckStage(v.Choices.Pipelines, v.Form.Pipeline, v.Form.Stage) == nil {
		return
	}
	if !slices.ContainsFunc(v.Choices.Pipelines, func(p hubspot.Pipeline) bool { return p.ID == v.Form.Pipeline }) {
		v.GonePipeline = v.Form.Pipeline
	}
	if !v.offersStage(v.Form.Stage) {
		v.GoneStage = v.Form.Stage
	}
}

// offersStage reports whether any pipeline offers the stage.
func (v *dealsView) offersStage(id string) bool {
	for _, p := range v.Choices.Pipelines {
		if _, ok := p.Stage(id); ok {
			return true
		}
	}
	return false
}

// previewDeal is the deal s would make from the sample signup (with the
// template semantics delivery uses), values shown as the pages show a
// payload's.
func (d mappingData) previewDeal(s tenants.DealSettings) dealPreview {
	props := s.DealProperties(payload.New(workspace.RedactFields(d.sample.Fields)))
	p := dealPreview{Name: props["dealname"]}
	delete(props, "dealname")
	for name, value := range props {
		p.Props = append(p.Props, previewProp{Name: name, Label: d.all[name].Label, Value: value})
	}
	sort.Slice(p.Props, func(i, j int) bool { return p.Props[i].Name < p.Props[j].Name })
	return p
}

// dealsForm reads the Deals tab's form.
func dealsForm(c *gin.Context) (dealForm, mappingInput) {
	f := dealForm{Referrers: c.PostForm("referrer") == "deal", Leads: c.PostForm("lead") == "deal",
		NoReferrers: c.PostForm("referrer") == "nothing", NoLeads: c.PostForm("lead") == "nothing",
		Pipeline: strings.TrimSpace(c.PostForm("pipeline")), Stage: strings.TrimSpace(c.PostForm("stage")),
		Name: strings.TrimSpace(c.PostForm("name"))}
	return f, mappingForm(c)
}

// dealSettings turns the form into deal settings, with what is wrong with
// its default-value rows (DealSettings.Validate checks the rest).
func dealSettings(f dealForm, in mappingInput) (tenants.DealSettings, []string) {
	m, probs := buildMapping(in)
	d := tenants.DealSettings{CreateFor: []string{}, Pipeline: f.Pipeline, Stage: f.Stage, Name: f.Name,
		Fields: m.Fields, Defaults: m.Defaults}
	if f.Referrers {
		d.CreateFor = append(d.CreateFor, tenants.DealsForReferrers)
	}
	if f.Leads {
		d.CreateFor = append(d.CreateFor, tenants.DealsForLeads)
	}
	return d, probs
}

// send is what the form sends to HubSpot per kind.
func (f dealForm) send() tenants.Send {
	s := tenants.Send{Referrers: tenants.SendContacts, Leads: tenants.SendContacts}
	if f.NoReferrers {
		s.Referrers = tenants.SendNothing
	}
	if f.NoLeads {
		s.Leads = tenants.SendNothing
	}
	return s
}

// SaveDeals saves the Deals tab, or adds, removes or previews a row of it
// (the tab works without JavaScript).
func (h *Pages) SaveDeals(c *gin.Context, src tenants.Source) error {
	form, in := dealsForm(c)
	v := &dealsView{Unsaved: true}
	if editRows(c, &in) || c.PostForm("action") == "preview" {
		return h.renderDeals(c, http.StatusOK, src, form, in, v)
	}
	d, probs := dealSettings(form, in)
	if len(probs) == 0 {
		_, err := h.ws.Sources.SaveDealsAndSend(c.Request.Context(), src, form.send(), &d)
		var ve *tenants.ValidationError
		switch e := apperr.As(err); {
		case err == nil:
		case errors.As(err, &ve):
			probs = ve.Problems
		case e.Code == apperr.Unprocessable || e.Code == apperr.Conflict || e.Code == apperr.Upstream:
			probs = []string{e.Message}
		default:
			return err
		}
	}
	if len(probs) > 0 {
		v.Problems = probs
		return h.renderDeals(c, http.StatusUnprocessableEntity, src, form, in, v)
	}
	return h.redirectFlash(c, dealsURL(src.ID), dealsSavedMessage(d, form.send()), false)
}

// dealsSavedMessage says what saved deal settings do from now on.
func dealsSavedMessage(d tenants.DealSettings, s tenants.Send) string {
	switch {
	case s.Nothing():
		return "Deal settings saved: this source now sends nothing to HubSpot. Its signups are still received and shown in the activity as not sent."
	case s.Referrers == tenants.SendNothing:
		if d.For(true) {
			return "Deal settings saved: every new lead becomes a contact and a deal; referrers are not sent to HubSpot."
		}
		return "Deal settings saved: every new lead becomes a contact only; referrers are not sent to HubSpot."
	case s.Leads == tenants.SendNothing:
		if d.For(false) {
			return "Deal settings saved: every new referrer becomes a contact and a deal; leads are not sent to HubSpot."
		}
		return "Deal settings saved: every new referrer becomes a contact only; leads are not sent to HubSpot."
	case d.For(true) && d.For(false):
		return "Deal settings saved: every new referrer and lead also becomes a deal."
	case d.For(true):
		return "Deal settings saved: every new lead also becomes a deal; referrers stay contacts only."
	case d.For(false):
		return "Deal settings saved: every new referrer also becomes a deal; leads stay contacts only."
	}
	return "Deal settings saved: referrers and leads stay contacts only, so no deal is made until you choose “Contact and deal” for one of them."
}

// DeleteDeals stops making deals for the source.
func (h *Pages) DeleteDeals(c *gin.Context, src tenants.Source) error {
	if _, err := h.ws.Sources.SaveDeals(c.Request.Context(), src, nil); err != nil {
		return h.redirectError(c, dealsURL(src.ID), err)
	}
	become := "referrers and leads become contacts only"
	if !src.Sends(false) || !src.Sends(true) {
		become = "signups of the kind it sends become contacts only, the other kind stays not sent"
	}
	return h.redirectFlash(c, dealsURL(src.ID), fmt.Sprintf("Deal settings removed: %s's %s; deals already made stay in HubSpot.", src.Name, become), false)
}
