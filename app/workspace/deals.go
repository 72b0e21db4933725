package workspace

import (
	"context"
	"fmt"
	"strings"

	"github.com/refhub/refhub/app/apperr"
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
		p, err := o.d.Store.Portal(ctx, src.HubID)
		if err != nil {
			return src, err
		}
		if miss := p.MissingDealScopes(); len(miss) > 0 {
			return src, apperr.New(apperr.Conflict, fmt.Sprintf(
				"reconnect to enable deals: portal %d was installed before refhub wrote deals and has not granted %s; install refhub again in this portal (its contacts keep flowing meanwhile)",
				src.HubID, strings.Join(miss, ", ")))
		}
		api := o.d.HubSpot.Portal(src.HubID, o.d.Tokens.Func(src.HubID), o.d.Limiter)
		pipes, err := api.ListPipelines(ctx, hubspot.ObjectDeals)
		if err != nil {
			return src, o.portals.hubspotProblem(ctx, src.HubID, err)
		}
		if err := CheckStage(pipes, nd.Pipeline, nd.Stage); err != nil {
			return src, err
		}
		d = &nd
	}
	src.Deals = d
	return o.d.Sources.Save(ctx, src)
}

// CheckStage says what is wrong with a pipeline and stage in a portal whose
// deal pipelines are pipes.
func CheckStage(pipes []hubspot.Pipeline, pipeline, stage string) error {
	var names []string
	for _, p := range pipes {
		if p.Archived {
			continue
		}
		names = append(names, fmt.Sprintf("%s (%s)", p.ID, p.Label))
		if p.ID != pipeline {
			continue
		}
		var stages []string
		for _, s := range p.Stages {
			if s.Archived {
				continue
			}
			if s.ID == stage {
				return nil
			}
			stages = append(stages, fmt.Sprintf("%s (%s)", s.ID, s.Label))
		}
		return &tenants.ValidationError{Problems: []string{fmt.Sprintf(
			"stage: pipeline %q has no stage %q; its stages are %s", pipeline, stage, strings.Join(stages, ", "))}}
	}
	return &tenants.ValidationError{Problems: []string{fmt.Sprintf(
		"pipeline: the portal has no deal pipeline %q; its pipelines are %s", pipeline, strings.Join(names, ", "))}}
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
