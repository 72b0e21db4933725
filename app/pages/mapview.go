package pages

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
	"github.com/refhub/refhub/tenants"
)

// fieldRow is one "Referral Factory field → HubSpot property" row of the
// mapping editor.
type fieldRow struct {
	From, To string
	Sample   string // the field's value in the last signup, redacted
	Missing  string // label for To when the portal does not offer it
	Warning  string
	Problem  string
}

// defaultRow is one "property = fixed value" row of the mapping editor.
type defaultRow struct {
	Property, Value string
	Options         []hubspot.Option // the property's options, for an enumeration
	OtherValue      bool             // Value is not one of Options
	Missing         string
	Warning         string
	Problem         string
}

// policyChoice is one duplicate policy radio button.
type policyChoice struct {
	Value       tenants.Policy
	Label       string
	Description string
}

// mappingView is the mapping editor of a source's default mapping or of
// one campaign route's mapping.
type mappingView struct {
	Ctx      sourceCtx
	Route    string // campaign id; empty for the default mapping
	Domain   string
	Policy   tenants.Policy
	Policies []policyChoice
	rowsView
	sampleInfo
	Problems  []string
	Unsaved   bool
	Refreshed bool
	// The Leads tab: the mapping of the source's leads (Leads), shown from
	// the referrer mapping while none is saved (LeadsFallback), and the
	// rule that tells leads from referrers.
	Leads         bool
	LeadsFallback bool
	RuleField     string
	RuleValues    string
	RuleProblems  []string
}

// mappingInput is the editor's content before it is checked: rows as the
// admin entered them.
type mappingInput struct {
	Fields   []tenants.FieldMap
	Defaults [][2]string // property, value
	Policy   tenants.Policy
}

func inputOf(m tenants.Mapping) mappingInput {
	in := mappingInput{Fields: append([]tenants.FieldMap(nil), m.Fields...), Policy: m.OnExisting}
	keys := make([]string, 0, len(m.Defaults))
	for k := range m.Defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Defaults = append(in.Defaults, [2]string{k, m.Defaults[k]})
	}
	return in
}

// policyChoices lists the duplicate policies with what each one does.
func policyChoices() []policyChoice {
	out := []policyChoice{{Value: tenants.Update, Label: "Update"}, {Value: tenants.Skip, Label: "Skip"},
		{Value: tenants.FillEmpty, Label: "Fill empty fields"}}
	for i := range out {
		out[i].Description = out[i].Value.Describe()
	}
	return out
}

// mappingData is what the checks compare the mapping against: the portal's
// properties and a sample signup.
type mappingData struct {
	all      map[string]properties.View // every property, by name
	writable []properties.View
	sample   *payload.Payload
	typical  bool
	err      string
}

// sampleInfo is what a settings page says about the signup its samples and
// previews come from.
type sampleInfo struct {
	Keys    []string // field paths of the sample, for the datalist
	LastAt  time.Time
	Typical bool // no signup received yet: samples are a typical one
}

// loadMappingData lists the portal's properties (cached unless refresh)
// and the last signup, or a typical one when none arrived yet.
func (h *Pages) loadMappingData(ctx context.Context, src tenants.Source, hub int64, refresh bool, v *mappingView) (mappingData, error) {
	d := mappingData{all: map[string]properties.View{}}
	props, err := h.ws.Portals.Properties(ctx, hub, refresh)
	if err != nil {
		d.err = apperr.As(err).Message
		if oauth.ErrNoTokens(err) {
			d.err = "HubSpot did not list this portal's properties: the portal needs to be reconnected."
		}
	}
	for _, p := range props {
		d.all[p.Name] = p
		if p.Writable {
			d.writable = append(d.writable, p)
		}
	}
	return d, h.loadSample(ctx, src, &d, &v.sampleInfo)
}

// loadSample gives d the signup samples and warnings come from, and tells
// the page which one it is.
func (h *Pages) loadSample(ctx context.Context, src tenants.Source, d *mappingData, info *sampleInfo) error {
	sample, err := h.ws.Events.Sample(ctx, src)
	if err != nil {
		return err
	}
	d.sample, d.typical = sample.Payload, sample.Typical
	info.LastAt, info.Typical = sample.At, sample.Typical
	seen := map[string]bool{}
	for _, f := range d.sample.Fields {
		if !seen[strings.ToLower(f.Path)] {
			seen[strings.ToLower(f.Path)] = true
			info.Keys = append(info.Keys, f.Path)
		}
	}
	return nil
}

// fill completes v from the admin's input: rows with samples and
// warnings, one empty row of each kind to add to, and the property data.
func (d mappingData) fill(v *mappingView, in mappingInput) {
	v.Policy, v.Policies = in.Policy, policyChoices()
	if v.Policy == "" {
		v.Policy = tenants.Update
	}
	v.rowsView = d.rows(in.Fields, in.Defaults)
}

// rowsView is the field and default-value rows of a mapping editor, with
// the properties their selects offer.
type rowsView struct {
	Fields      []fieldRow
	Defaults    []defaultRow
	Properties  []properties.View // writable properties, for the selects
	EnumOptions map[string][]hubspot.Option
	PropsError  string
	Warnings    int
	Target      string // what the property column is headed; "" is "HubSpot property"
}

// rows are the editor's rows for fields and defaults, each with its sample
// and warning, plus one empty row of each kind to add to.
func (d mappingData) rows(fields []tenants.FieldMap, defaults [][2]string) rowsView {
	v := rowsView{Properties: d.writable, PropsError: d.err, EnumOptions: map[string][]hubspot.Option{}}
	for _, p := range d.writable {
		if p.Type == "enumeration" && len(p.Options) > 0 {
			v.EnumOptions[p.Name] = p.Options
		}
	}
	for _, f := range fields {
		v.Fields = append(v.Fields, d.fieldRow(f))
	}
	v.Fields = append(v.Fields, fieldRow{})
	for _, kv := range defaults {
		v.Defaults = append(v.Defaults, d.defaultRow(kv[0], kv[1]))
	}
	v.Defaults = append(v.Defaults, defaultRow{})
	for _, r := range v.Fields {
		if r.Warning != "" {
			v.Warnings++
		}
	}
	for _, r := range v.Defaults {
		if r.Warning != "" {
			v.Warnings++
		}
	}
	return v
}

func (d mappingData) fieldRow(f tenants.FieldMap) fieldRow {
	r := fieldRow{From: f.From, To: f.To}
	raw, found := "", false
	if f.From != "" {
		raw, found = d.sample.Get(f.From)
		r.Sample = workspace.RedactValue(f.From, raw)
	}
	if f.To == "" {
		return r
	}
	p, ok := d.all[f.To]
	r.Missing, r.Warning = d.propertyIssue(f.To, p, ok)
	switch {
	case r.Warning != "":
	case f.From != "" && !found && !d.typical:
		r.Warning = fmt.Sprintf("The last signup has no field %q: check the name against the fields listed on the source page.", f.From)
	case found:
		r.Warning = typeWarning(p, raw, workspace.RedactValue(f.From, raw))
	}
	return r
}

func (d mappingData) defaultRow(prop, value string) defaultRow {
	r := defaultRow{Property: prop, Value: value}
	if prop == "" {
		return r
	}
	p, ok := d.all[prop]
	r.Missing, r.Warning = d.propertyIssue(prop, p, ok)
	if p.Type == "enumeration" && len(p.Options) > 0 {
		r.Options = p.Options
		r.OtherValue = value != "" && !properties.IsOption(value, p.Options)
	}
	if r.Warning == "" {
		r.Warning = typeWarning(p, value, value)
	}
	return r
}

// propertyIssue says why a mapped property cannot be written, and how its
// option is labelled when the select does not otherwise offer it.
func (d mappingData) propertyIssue(name string, p properties.View, ok bool) (missing, warning string) {
	switch {
	case d.err != "" && !ok:
		return name, ""
	case !ok:
		return name + " (not in this portal)", fmt.Sprintf("Property '%s' does not exist in this portal: create the recommended properties or choose another one.", name)
	case !p.Writable:
		return p.Label + " (" + name + ", read-only)", fmt.Sprintf("Property '%s' is read-only in HubSpot: HubSpot sets or calculates it, so refhub cannot write it.", name)
	}
	return "", ""
}

// typeWarning predicts HubSpot refusing value for property p: what
// properties.Coerce (the rule delivery applies) cannot make of it. shown is
// the value as the page may display it.
func typeWarning(p properties.View, value, shown string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return ""
	}
	if _, ok := p.Coerce(v); ok {
		return ""
	}
	switch p.Type {
	case "number":
		return fmt.Sprintf("%q is not a number, and %s (%s) holds numbers: HubSpot will refuse it.", shown, p.Label, p.Name)
	case "date", "datetime":
		return fmt.Sprintf("%q is not a date, and %s (%s) holds dates: HubSpot will refuse it. Use a date field (YYYY-MM-DD).", shown, p.Label, p.Name)
	case "bool":
		return fmt.Sprintf("%q is not yes or no, and %s (%s) is a checkbox: HubSpot will refuse it.", shown, p.Label, p.Name)
	case "enumeration":
		return fmt.Sprintf("%q is not one of the options of %s (%s): HubSpot will refuse it.", shown, p.Label, p.Name)
	}
	return ""
}
