package app

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/hubspot"
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
	Ctx         sourceCtx
	Route       string // campaign id; empty for the default mapping
	Domain      string
	Fields      []fieldRow
	Defaults    []defaultRow
	Policy      tenants.Policy
	Policies    []policyChoice
	Properties  []propertyView // writable properties, for the selects
	EnumOptions map[string][]hubspot.Option
	PropsError  string
	Keys        []string // field paths of the last signup, for the datalist
	LastAt      time.Time
	Typical     bool // no signup received yet: samples are a typical one
	Problems    []string
	Warnings    int
	Unsaved     bool
	Refreshed   bool
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
	all      map[string]propertyView // every property, by name
	writable []propertyView
	sample   *payload.Payload
	typical  bool
	err      string
}

// loadMappingData lists the portal's properties (cached unless refresh)
// and the last signup, or a typical one when none arrived yet.
func (a *App) loadMappingData(ctx context.Context, src tenants.Source, hub int64, refresh bool, v *mappingView) (mappingData, error) {
	d := mappingData{all: map[string]propertyView{}}
	props, err := a.portalProperties(ctx, hub, refresh)
	if err != nil {
		d.err = apperr.As(err).Message
		if isReconnect(err) {
			d.err = "HubSpot did not list this portal's properties: the portal needs to be reconnected."
		}
	}
	for _, p := range props {
		d.all[p.Name] = p
		if p.Writable {
			d.writable = append(d.writable, p)
		}
	}
	last, err := a.lastPayload(ctx, src)
	if err != nil {
		return d, err
	}
	if last != nil {
		d.sample, v.LastAt = payload.New(last.Payload), last.ReceivedAt
	} else {
		d.sample, d.typical, v.Typical = payload.New(typicalSignup(1)), true, true
	}
	seen := map[string]bool{}
	for _, f := range d.sample.Fields {
		if !seen[strings.ToLower(f.Path)] {
			seen[strings.ToLower(f.Path)] = true
			v.Keys = append(v.Keys, f.Path)
		}
	}
	return d, nil
}

// fill completes v from the admin's input: rows with samples and
// warnings, one empty row of each kind to add to, and the property data.
func (d mappingData) fill(v *mappingView, in mappingInput) {
	v.Properties, v.PropsError, v.Policy, v.Policies = d.writable, d.err, in.Policy, policyChoices()
	if v.Policy == "" {
		v.Policy = tenants.Update
	}
	v.EnumOptions = map[string][]hubspot.Option{}
	for _, p := range d.writable {
		if p.Type == "enumeration" && len(p.Options) > 0 {
			v.EnumOptions[p.Name] = p.Options
		}
	}
	for _, f := range in.Fields {
		v.Fields = append(v.Fields, d.fieldRow(f))
	}
	v.Fields = append(v.Fields, fieldRow{})
	for _, kv := range in.Defaults {
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
}

func (d mappingData) fieldRow(f tenants.FieldMap) fieldRow {
	r := fieldRow{From: f.From, To: f.To}
	raw, found := "", false
	if f.From != "" {
		raw, found = d.sample.Get(f.From)
		r.Sample = redactValue(f.From, raw)
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
		r.Warning = typeWarning(p, raw, redactValue(f.From, raw))
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
		r.OtherValue = value != "" && !optionMatches(value, p.Options)
	}
	if r.Warning == "" {
		r.Warning = typeWarning(p, value, value)
	}
	return r
}

// propertyIssue says why a mapped property cannot be written, and how its
// option is labelled when the select does not otherwise offer it.
func (d mappingData) propertyIssue(name string, p propertyView, ok bool) (missing, warning string) {
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

// typeWarning predicts HubSpot refusing value for a property of p's type;
// shown is the value as the page may display it.
func typeWarning(p propertyView, value, shown string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return ""
	}
	switch p.Type {
	case "number":
		if _, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64); err != nil {
			return fmt.Sprintf("%q is not a number, and %s (%s) holds numbers: HubSpot will refuse it.", shown, p.Label, p.Name)
		}
	case "date", "datetime":
		if !looksLikeDate(v) {
			return fmt.Sprintf("%q is not a date, and %s (%s) holds dates: HubSpot will refuse it. Use a date field (YYYY-MM-DD).", shown, p.Label, p.Name)
		}
	case "bool":
		switch strings.ToLower(v) {
		case "true", "false", "yes", "no", "1", "0", "on", "off", "y", "n":
		default:
			return fmt.Sprintf("%q is not yes or no, and %s (%s) is a checkbox: HubSpot will refuse it.", shown, p.Label, p.Name)
		}
	case "enumeration":
		if len(p.Options) > 0 && !optionMatches(v, p.Options) {
			return fmt.Sprintf("%q is not one of the options of %s (%s): HubSpot will refuse it.", shown, p.Label, p.Name)
		}
	}
	return ""
}

// optionMatches reports whether every ;-separated part of v names an
// option by value or label (delivery translates labels to values).
func optionMatches(v string, opts []hubspot.Option) bool {
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		ok := false
		for _, o := range opts {
			if strings.EqualFold(part, o.Value) || strings.EqualFold(part, o.Label) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// dateLayouts are the date forms delivery converts for HubSpot.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04",
	"2006-01-02", "2006/01/02", "02.01.2006"}

func looksLikeDate(v string) bool {
	for _, l := range dateLayouts {
		if _, err := time.Parse(l, v); err == nil {
			return true
		}
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	return err == nil && ms > 1e11
}
