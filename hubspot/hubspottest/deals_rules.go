package hubspottest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// checkDealWrite validates one deal write and returns the values to store:
// property values first, then the pipeline and stage (a new deal needs a
// stage, and the stage must belong to the deal's pipeline, which defaults
// to "default"), then unique values. existing is nil for a new deal.
// Callers hold s.mu.
func (pt *portal) checkDealWrite(existing *record, props map[string]string) (map[string]string, *failure) {
	issues, values := pt.dealSchema.validateProps(props)
	if len(issues) == 0 {
		issues = pt.stageIssues(existing, props)
	}
	if len(issues) > 0 {
		sort.SliceStable(issues, func(a, b int) bool { return issues[a].Name < issues[b].Name })
		return nil, &failure{http.StatusBadRequest, "VALIDATION_ERROR", issuesMessage(issues)}
	}
	for name, v := range values {
		if def := pt.dealSchema.props[name]; !def.HasUniqueValue || v == "" {
			continue
		}
		if other, taken := pt.dealByUnique(name, v); taken && other != existing {
			return nil, &failure{http.StatusConflict, "CONFLICT",
				fmt.Sprintf("A deal with %s %q already exists. Existing ID: %s", name, v, other.idString())}
		}
	}
	return values, nil
}

// stageIssues checks the pipeline/dealstage pair of a write.
func (pt *portal) stageIssues(existing *record, props map[string]string) []propIssue {
	pipeID, pipeSet := props["pipeline"]
	stage, stageSet := props["dealstage"]
	if existing != nil {
		if !pipeSet {
			pipeID = existing.props["pipeline"]
		}
		if !stageSet {
			stage = existing.props["dealstage"]
		}
	}
	if pipeID == "" && !pipeSet {
		pipeID = "default"
	}
	p, ok := pt.pipeline(pipeID)
	if !ok {
		return []propIssue{invalidOption("pipeline", pipeID, pipelineIDs(pt))}
	}
	switch {
	case stage == "" && existing == nil:
		return []propIssue{issue("dealstage", "MISSING_REQUIRED_PROPERTY",
			"dealstage is required to create a deal: set it to a stage id of pipeline "+p.id)}
	case stage == "" || !hasStage(p, stage):
		return []propIssue{invalidOption("dealstage", stage, p.stageIDs())}
	}
	return nil
}

func hasStage(p *pipeline, id string) bool {
	_, ok := p.stage(id)
	return ok
}

func invalidOption(name, value string, allowed []string) propIssue {
	return issue(name, "INVALID_OPTION",
		fmt.Sprintf("%q was not one of the allowed options: [%s]", value, strings.Join(allowed, ", ")))
}

func pipelineIDs(pt *portal) []string {
	ids := make([]string, len(pt.deals.pipelines))
	for i, p := range pt.deals.pipelines {
		ids[i] = p.id
	}
	return ids
}
