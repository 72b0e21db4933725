package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/refhub/refhub/app/apperr"
	"github.com/refhub/refhub/app/payload"
	"github.com/refhub/refhub/app/properties"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// SaveDeals checks d against the source's portal (its deal pipelines and
// stages, and that its install granted the deal scopes) and stores it; nil
// stops creating deals.
func (o *Sources) SaveDeals(ctx context.Context, src tenants.Source, d *tenants.DealSettings) (tenants.Source, error) {
	if d != nil {
		nd := normalizedDeals(*d)
		if err := nd.Validate(); err != nil {
			return src, err
		}
		withDeals := src
		withDeals.Deals = &nd
		if err := withDeals.CheckDeals(); err != nil {
			return src, err
		}
		miss, err := o.missingDealScopes(ctx, src)
		if err != nil {
			return src, err
		}
		if len(miss) > 0 {
			return src, apperr.New(apperr.Conflict, fmt.Sprintf(
				"reconnect to enable deals: portal %d was installed before refhub wrote deals and has not granted %s; install refhub again in this portal (its contacts keep flowing meanwhile)",
				src.HubID, strings.Join(miss, ", ")))
		}
		pipes, err := o.dealPipelines(ctx, src)
		if err != nil {
			return src, err
		}
		if err := CheckStage(pipes, nd.Pipeline, nd.Stage); err != nil {
			return src, err
		}
		d = &nd
	}
	src.Deals = d
	return o.d.Sources.Save(ctx, src)
}

// SaveDealsAndSend saves the Deals tab: which kinds of signup are sent to
// HubSpot at all (send) and the deal settings, in one save.
func (o *Sources) SaveDealsAndSend(ctx context.Context, src tenants.Source, send tenants.Send, d *tenants.DealSettings) (tenants.Source, error) {
	if err := send.Validate(); err != nil {
		return src, err
	}
	src.Send = send.Normalized()
	return o.SaveDeals(ctx, src, d)
}

// CheckStage says what is wrong with a pipeline and stage in a portal whose
// deal pipelines are pipes.
func CheckStage(pipes []hubspot.Pipeline, pipeline, stage string) error {
	var names []string
	for _, p := range OpenPipelines(pipes) {
		names = append(names, fmt.Sprintf("%s (%s)", p.ID, p.Label))
		if p.ID != pipeline {
			continue
		}
		var stages []string
		for _, s := range p.Stages {
			if s.ID == stage {
				return nil
			}
			stages = append(stages, fmt.Sprintf("%s (%s)", s.ID, s.Label))
		}
		return &tenants.ValidationError{Of: tenants.DealSettingsError, Problems: []string{fmt.Sprintf(
			"stage: pipeline %q has no stage %q; choose one of its stages: %s", pipeline, stage, strings.Join(stages, ", "))}}
	}
	return &tenants.ValidationError{Of: tenants.DealSettingsError, Problems: []string{fmt.Sprintf(
		"pipeline: the portal has no deal pipeline %q; choose one of its pipelines: %s", pipeline, strings.Join(names, ", "))}}
}

// normalizedDeals trims the settings and gives them empty defaults.
func normalizedDeals(d tenants.DealSettings) tenants.DealSettings {
	d.Pipeline, d.Stage, d.Name = strings.TrimSpace(d.Pipeline), strings.TrimSpace(d.Stage), strings.TrimSpace(d.Name)
	if d.Defaults == nil {
		d.Defaults = map[string]string{}
	}
	if d.Fields == nil {
		d.Fields = []tenants.FieldMap{}
	}
	if d.CreateFor == nil {
		d.CreateFor = []string{}
	}
	return d
}

// missingDealScopes lists the deal scopes the source's portal has not
// granted.
func (o *Sources) missingDealScopes(ctx context.Context, src tenants.Source) ([]string, error) {
	p, err := o.d.Store.Portal(ctx, src.HubID)
	if err != nil {
		return nil, err
	}
	return p.MissingDealScopes(), nil
}

// dealAPI is the source's portal in HubSpot.
func (o *Sources) dealAPI(src tenants.Source) *hubspot.Portal {
	return o.d.HubSpot.Portal(src.HubID, o.d.Tokens.Func(src.HubID), o.d.Limiter)
}

// dealPipelines lists the deal pipelines of the source's portal.
func (o *Sources) dealPipelines(ctx context.Context, src tenants.Source) ([]hubspot.Pipeline, error) {
	pipes, err := o.dealAPI(src).ListPipelines(ctx, hubspot.ObjectDeals)
	if err != nil {
		return nil, o.portals.hubspotProblem(ctx, src.HubID, err)
	}
	return pipes, nil
}

// DealChoices are what a source's deal settings choose from in its portal:
// the pipelines and stages deals can start in, the deal properties fields
// and defaults can set, and the fields of the signup a preview is made
// from. ReconnectNeeded (with the scopes missing) says the portal was
// installed before refhub wrote deals: nothing else is loaded then.
type DealChoices struct {
	Pipelines       []hubspot.Pipeline `json:"pipelines"`
	Properties      []properties.View  `json:"properties"`
	Fields          []payload.Field    `json:"fields"`
	FieldsFrom      string             `json:"fields_from"` // "last_signup" or "typical_signup"
	ReceivedAt      *time.Time         `json:"received_at"` // of the last signup
	ReconnectNeeded bool               `json:"reconnect_needed"`
	MissingScopes   []string           `json:"missing_scopes"`
	all             []properties.View
}

// All are every deal property of the portal, offered or not (read-only
// and calculated ones are not offered).
func (c DealChoices) All() []properties.View { return c.all }

// DealChoices loads what the source's deal settings can choose from; the
// portal's pipelines and deal properties are reused for a minute unless
// refresh (the Deals tab's preview asks as the admin types).
func (o *Sources) DealChoices(ctx context.Context, src tenants.Source, refresh bool) (DealChoices, error) {
	sample, err := o.events.Sample(ctx, src)
	if err != nil {
		return DealChoices{Pipelines: []hubspot.Pipeline{}, Properties: []properties.View{}, MissingScopes: []string{}, FieldsFrom: "last_signup"}, err
	}
	c, err := o.DealOptions(ctx, src, refresh)
	c.Fields = RedactFields(sample.Payload.Fields)
	if sample.Typical {
		c.FieldsFrom = "typical_signup"
	} else {
		c.ReceivedAt = &sample.At
	}
	return c, err
}

// DealOptions is DealChoices without the signup's fields, for a caller
// that reads the sample signup itself (the Deals tab).
func (o *Sources) DealOptions(ctx context.Context, src tenants.Source, refresh bool) (DealChoices, error) {
	c := DealChoices{Pipelines: []hubspot.Pipeline{}, Properties: []properties.View{}, MissingScopes: []string{}, FieldsFrom: "last_signup"}
	miss, err := o.missingDealScopes(ctx, src)
	if err != nil || len(miss) > 0 {
		c.ReconnectNeeded, c.MissingScopes = len(miss) > 0, append(c.MissingScopes, miss...)
		return c, err
	}
	pc, err := o.portalDealChoices(ctx, src, refresh)
	if err != nil {
		return c, err
	}
	c.Pipelines = OpenPipelines(pc.Pipelines)
	c.all = properties.Views(pc.Properties)
	for _, p := range c.all {
		if p.Writable && tenants.DealOwned(p.Name) == "" {
			c.Properties = append(c.Properties, p)
		}
	}
	return c, nil
}

// dealChoicesTTL is how long a portal's deal pipelines and properties are
// reused for the Deals tab.
const dealChoicesTTL = time.Minute

func dealChoicesKey(hub int64) string { return tenants.PortalKey(hub, "deals:choices") }

// portalDeals are a portal's deal pipelines and properties as HubSpot
// lists them.
type portalDeals struct {
	Pipelines  []hubspot.Pipeline `json:"pipelines"`
	Properties []hubspot.Property `json:"properties"`
}

// portalDealChoices lists the source portal's deal pipelines and
// properties, or reuses the last listing of the past minute.
func (o *Sources) portalDealChoices(ctx context.Context, src tenants.Source, refresh bool) (portalDeals, error) {
	var pd portalDeals
	key := dealChoicesKey(src.HubID)
	if raw, err := o.d.Redis.Get(ctx, key).Bytes(); err == nil && !refresh && json.Unmarshal(raw, &pd) == nil {
		return pd, nil
	}
	pipes, err := o.dealPipelines(ctx, src)
	if err != nil {
		return pd, err
	}
	list, err := o.dealAPI(src).ListPropertiesOf(ctx, hubspot.ObjectDeals)
	if err != nil {
		return pd, o.portals.hubspotProblem(ctx, src.HubID, err)
	}
	pd = portalDeals{Pipelines: pipes, Properties: list}
	if raw, err := json.Marshal(pd); err == nil {
		if err := o.d.Redis.Set(ctx, key, raw, dealChoicesTTL).Err(); err != nil {
			o.d.Log.Warn("keep the portal's deal choices", "hub", src.HubID, "err", err)
		}
	}
	return pd, nil
}

// OpenPipelines are the pipelines and stages new deals can be put in:
// archived ones are left out, and so is a pipeline with no stage left.
func OpenPipelines(pipes []hubspot.Pipeline) []hubspot.Pipeline {
	out := []hubspot.Pipeline{}
	for _, p := range pipes {
		if p.Archived {
			continue
		}
		stages := []hubspot.PipelineStage{}
		for _, s := range p.Stages {
			if !s.Archived {
				stages = append(stages, s)
			}
		}
		if len(stages) > 0 {
			p.Stages = stages
			out = append(out, p)
		}
	}
	return out
}
