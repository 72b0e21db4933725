package workspace_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/workspace"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// archivedPipelines are a portal's deal pipelines as HubSpot lists them
// with ?archived included: an archived pipeline, an archived stage, and a
// pipeline whose every stage is archived.
var archivedPipelines = []hubspot.Pipeline{
	{ID: "default", Label: "Sales Pipeline", Stages: []hubspot.PipelineStage{
		{ID: "new", Label: "New"}, {ID: "old", Label: "Old", Archived: true}, {ID: "won", Label: "Won"}}},
	{ID: "gone", Label: "Retired", Archived: true, Stages: []hubspot.PipelineStage{{ID: "g1", Label: "G1"}}},
	{ID: "empty", Label: "Emptied", Stages: []hubspot.PipelineStage{{ID: "e1", Label: "E1", Archived: true}}},
}

// TestOpenPipelines: archived pipelines and stages are not offered, nor a
// pipeline with no stage left.
func TestOpenPipelines(t *testing.T) {
	open := workspace.OpenPipelines(archivedPipelines)
	require.Len(t, open, 1)
	assert.Equal(t, "default", open[0].ID)
	assert.Equal(t, []hubspot.PipelineStage{{ID: "new", Label: "New"}, {ID: "won", Label: "Won"}}, open[0].Stages)
	assert.Len(t, archivedPipelines[0].Stages, 3, "the portal's list is left as it was")
}

// TestCheckStage: a stage or pipeline that is archived, missing or of
// another pipeline is refused as a deal setting, naming what to choose.
func TestCheckStage(t *testing.T) {
	tests := []struct {
		name, pipeline, stage string
		want                  string // "" accepted
	}{
		{"an open stage", "default", "won", ""},
		{"an archived stage", "default", "old", `invalid deal settings: stage: pipeline "default" has no stage "old"; choose one of its stages: new (New), won (Won)`},
		{"an archived pipeline", "gone", "g1", `invalid deal settings: pipeline: the portal has no deal pipeline "gone"; choose one of its pipelines: default (Sales Pipeline)`},
		{"a pipeline with no open stage", "empty", "e1", `invalid deal settings: pipeline: the portal has no deal pipeline "empty"; choose one of its pipelines: default (Sales Pipeline)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := workspace.CheckStage(archivedPipelines, tc.pipeline, tc.stage)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var ve *tenants.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
