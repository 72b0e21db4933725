package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// Pipeline is a deal (or ticket) pipeline with its stages in display order.
type Pipeline struct {
	ID           string          `json:"id"`
	Label        string          `json:"label"`
	DisplayOrder int             `json:"displayOrder"`
	Archived     bool            `json:"archived"`
	Stages       []PipelineStage `json:"stages"`
}

// PipelineStage is one stage. For deals, Metadata holds "probability" and
// "isClosed".
type PipelineStage struct {
	ID           string            `json:"id"`
	Label        string            `json:"label"`
	DisplayOrder int               `json:"displayOrder"`
	Archived     bool              `json:"archived"`
	Metadata     map[string]string `json:"metadata"`
}

// Closed reports whether a deal in this stage is won or lost.
func (s PipelineStage) Closed() bool { return s.Metadata["isClosed"] == "true" }

// Probability is the stage's chance of closing (0 to 1), if it has one.
func (s PipelineStage) Probability() (float64, bool) {
	p, err := strconv.ParseFloat(s.Metadata["probability"], 64)
	return p, err == nil
}

// Stage finds a stage of the pipeline by id.
func (p Pipeline) Stage(id string) (PipelineStage, bool) {
	for _, s := range p.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return PipelineStage{}, false
}

// ListPipelines returns the pipelines of an object type (ObjectDeals) with
// their stages.
func (p *Portal) ListPipelines(ctx context.Context, objectType string) ([]Pipeline, error) {
	var resp struct {
		Results []Pipeline `json:"results"`
	}
	if _, err := p.call(ctx, http.MethodGet, p.c.pipelinesPath(objectType), nil, &resp); err != nil {
		return nil, fmt.Errorf("portal %d: list %s pipelines: %w", p.hubID, objectType, err)
	}
	return resp.Results, nil
}
