package hubspottest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// firstPipelineID is where assigned pipeline ids start; HubSpot's are
// numeric strings.
const firstPipelineID = 75_000_000

// pipeline is a deal pipeline with its stages in display order.
type pipeline struct {
	id, label    string
	displayOrder int
	stages       []*pipelineStage
	created      time.Time
	updated      time.Time
}

// pipelineStage is one stage; probability is kept as HubSpot sends it in
// metadata.
type pipelineStage struct {
	id, label    string
	displayOrder int
	probability  string
	closed       bool
	created      time.Time
	updated      time.Time
}

// Pipeline is a deal pipeline for AddPipeline and Pipelines.
type Pipeline struct {
	ID           string
	Label        string
	DisplayOrder int
	Stages       []PipelineStage
}

// PipelineStage is one stage of a Pipeline. Probability is 0.0 to 1.0.
type PipelineStage struct {
	ID           string
	Label        string
	DisplayOrder int
	Probability  float64
	Closed       bool
}

// stage finds a stage of the pipeline by id.
func (p *pipeline) stage(id string) (*pipelineStage, bool) {
	for _, st := range p.stages {
		if st.id == id {
			return st, true
		}
	}
	return nil, false
}

func (p *pipeline) stageIDs() []string {
	ids := make([]string, len(p.stages))
	for i, st := range p.stages {
		ids[i] = st.id
	}
	return ids
}

// pipeline finds a deal pipeline by id.
func (pt *portal) pipeline(id string) (*pipeline, bool) {
	for _, p := range pt.deals.pipelines {
		if p.id == id {
			return p, true
		}
	}
	return nil, false
}

// syncPipelineOptions makes the pipeline and dealstage properties list the
// pipelines and stages as their options, as HubSpot's properties API does.
func (pt *portal) syncPipelineOptions() {
	var pipes, stages []PropertyOption
	for i, p := range pt.deals.pipelines {
		pipes = append(pipes, PropertyOption{Label: p.label, Value: p.id, DisplayOrder: i})
		for _, st := range p.stages {
			stages = append(stages, PropertyOption{Label: st.label, Value: st.id, DisplayOrder: len(stages)})
		}
	}
	pt.dealSchema.props["pipeline"].Options = pipes
	pt.dealSchema.props["dealstage"].Options = stages
}

// AddPipeline adds a deal pipeline as a HubSpot admin would in settings.
// Empty ids are assigned numeric ids like HubSpot's. It panics on an
// unknown portal, a pipeline without stages, or an id or stage id that is
// already used, and returns the pipeline as stored.
func (s *Server) AddPipeline(hubID int64, in Pipeline) Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("AddPipeline", hubID)
	if len(in.Stages) == 0 || strings.TrimSpace(in.Label) == "" {
		panic("hubspottest: AddPipeline: a pipeline needs a label and at least one stage")
	}
	now := s.now()
	p := &pipeline{id: in.ID, label: in.Label, displayOrder: in.DisplayOrder, created: now, updated: now}
	if p.id == "" {
		p.id = strconv.Itoa(firstPipelineID + len(pt.deals.pipelines))
	}
	if _, dup := pt.pipeline(p.id); dup {
		panic(fmt.Sprintf("hubspottest: AddPipeline: pipeline %q exists", p.id))
	}
	for i, st := range in.Stages {
		id := st.ID
		if id == "" {
			id = p.id + strconv.Itoa(i+1)
		}
		if pt.stageInUse(id) || slices.ContainsFunc(p.stages, func(o *pipelineStage) bool { return o.id == id }) {
			panic(fmt.Sprintf("hubspottest: AddPipeline: stage id %q is already used", id))
		}
		p.stages = append(p.stages, &pipelineStage{id: id, label: st.Label, displayOrder: st.DisplayOrder,
			probability: strconv.FormatFloat(st.Probability, 'f', 1, 64), closed: st.Closed, created: now, updated: now})
	}
	pt.deals.pipelines = append(pt.deals.pipelines, p)
	pt.syncPipelineOptions()
	return p.export()
}

func (pt *portal) stageInUse(id string) bool {
	for _, p := range pt.deals.pipelines {
		if _, ok := p.stage(id); ok {
			return true
		}
	}
	return false
}

func (p *pipeline) export() Pipeline {
	out := Pipeline{ID: p.id, Label: p.label, DisplayOrder: p.displayOrder}
	for _, st := range p.stages {
		prob, _ := strconv.ParseFloat(st.probability, 64)
		out.Stages = append(out.Stages, PipelineStage{ID: st.id, Label: st.label,
			DisplayOrder: st.displayOrder, Probability: prob, Closed: st.closed})
	}
	return out
}

// Pipelines returns the portal's deal pipelines; nil for an unknown portal.
func (s *Server) Pipelines(hubID int64) []Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.portals[hubID]
	if !ok {
		return nil
	}
	out := make([]Pipeline, len(pt.deals.pipelines))
	for i, p := range pt.deals.pipelines {
		out[i] = p.export()
	}
	return out
}

// pipelineJSON and stageJSON are the Pipeline and PipelineStage schemas of
// the pipelines API.
type pipelineJSON struct {
	ID           string      `json:"id"`
	Label        string      `json:"label"`
	DisplayOrder int         `json:"displayOrder"`
	Stages       []stageJSON `json:"stages"`
	CreatedAt    string      `json:"createdAt"`
	UpdatedAt    string      `json:"updatedAt"`
	Archived     bool        `json:"archived"`
}

type stageJSON struct {
	ID               string            `json:"id"`
	Label            string            `json:"label"`
	DisplayOrder     int               `json:"displayOrder"`
	Metadata         map[string]string `json:"metadata"`
	CreatedAt        string            `json:"createdAt"`
	UpdatedAt        string            `json:"updatedAt"`
	Archived         bool              `json:"archived"`
	WritePermissions string            `json:"writePermissions"`
}

// handleListPipelines serves GET /crm/pipelines/{v}/deals: every pipeline
// with its stages (archived ones are not simulated, so ?archived=true
// finds none).
func (s *Server) handleListPipelines(ex *exchange) {
	out := []pipelineJSON{}
	s.mu.Lock()
	if ex.r.URL.Query().Get("archived") != "true" {
		for _, p := range s.portals[ex.hubID].deals.pipelines {
			out = append(out, p.render())
		}
	}
	s.mu.Unlock()
	ex.json(http.StatusOK, map[string]any{"results": out})
}

func (p *pipeline) render() pipelineJSON {
	out := pipelineJSON{ID: p.id, Label: p.label, DisplayOrder: p.displayOrder,
		CreatedAt: hsTime(p.created), UpdatedAt: hsTime(p.updated), Stages: []stageJSON{}}
	for _, st := range p.stages {
		out.Stages = append(out.Stages, stageJSON{
			ID: st.id, Label: st.label, DisplayOrder: st.displayOrder,
			Metadata:  map[string]string{"isClosed": strconv.FormatBool(st.closed), "probability": st.probability},
			CreatedAt: hsTime(st.created), UpdatedAt: hsTime(st.updated),
			WritePermissions: "CRM_PERMISSIONS_ENFORCEMENT",
		})
	}
	return out
}

// DeleteStage deletes a stage of a deal pipeline as an admin would in
// settings (HubSpot asks to move its deals first; deals here keep the
// stage id, which writes then refuse as an unknown option). It panics on
// an unknown portal, pipeline or stage, or the pipeline's last stage.
func (s *Server) DeleteStage(hubID int64, pipelineID, stageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.mustPortal("DeleteStage", hubID)
	p, ok := pt.pipeline(pipelineID)
	if !ok {
		panic(fmt.Sprintf("hubspottest: DeleteStage: no pipeline %q", pipelineID))
	}
	i := slices.IndexFunc(p.stages, func(st *pipelineStage) bool { return st.id == stageID })
	if i < 0 || len(p.stages) == 1 {
		panic(fmt.Sprintf("hubspottest: DeleteStage: no stage %q in pipeline %q, or it is the last one", stageID, pipelineID))
	}
	p.stages = slices.Delete(p.stages, i, i+1)
	p.updated = s.now()
	pt.syncPipelineOptions()
}
