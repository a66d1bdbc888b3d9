package runner

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/regen-dev/regen/harness/workflow"
	"github.com/regen-dev/regen/runner/plan"
	"github.com/regen-dev/regen/runner/report"
)

// sized is a case whose prompt samples a w×h latent batch for steps steps.
func sized(id string, w, h, batch, steps any) plan.Case {
	return plan.Case{ID: id, Prompt: workflow.Prompt{
		"1": {ClassType: "EmptyLatentImage", Inputs: map[string]any{"width": w, "height": h, "batch_size": batch}},
		"2": {ClassType: "KSampler", Inputs: map[string]any{"steps": steps, "latent_image": []any{"1", 0.0}}},
	}}
}

func TestEstimateWork(t *testing.T) {
	t.Parallel()
	upscaled := sized("up", 128.0, 128.0, 1.0, 3.0)
	upscaled.Prompt["3"] = &workflow.Node{ClassType: "ImageScale", Inputs: map[string]any{"width": 1024.0, "height": 1024.0}}
	noSampler := plan.Case{Prompt: workflow.Prompt{"1": {ClassType: "SolidColor", Inputs: map[string]any{"width": 64.0, "height": 32.0}}}}
	skipped := sized("s", 512.0, 512.0, 1.0, 20.0)
	skipped.Skip = "needs a GPU"
	broken := sized("b", 512.0, 512.0, 1.0, 20.0)
	broken.Err = errors.New("missing file")
	tests := []struct {
		name string
		c    plan.Case
		want float64
	}{
		{"float inputs", sized("a", 128.0, 64.0, 2.0, 10.0), 128 * 64 * 2 * 10},
		{"pinned json numbers", sized("a", json.Number("128"), json.Number("128"), json.Number("1"), json.Number("20")), 128 * 128 * 20},
		{"ints, no batch", sized("a", 32, 32, nil, 4), 32 * 32 * 4},
		{"linked size counts 1 pixel", sized("a", []any{"9", 0.0}, 64.0, 1.0, 5.0), 5},
		{"upscaled refine", upscaled, 1024 * 1024 * 3},
		{"no sampler", noSampler, 64 * 32},
		{"skipped", skipped, 0},
		{"not planned", broken, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EstimateWork(tt.c); got != tt.want {
				t.Errorf("EstimateWork = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDispatchOrder: the plan order with one case in flight; longest first
// (ties in plan order) with several; recorded times where the history has
// them, the others' estimates scaled to seconds by the recorded cases.
func TestDispatchOrder(t *testing.T) {
	t.Parallel()
	cases := []plan.Case{
		sized("small-a", 64.0, 64.0, 1.0, 10.0),   // 40960
		sized("big", 1024.0, 1024.0, 1.0, 3.0),    // 3.1M
		sized("small-b", 64.0, 64.0, 1.0, 10.0),   // 40960, ties small-a
		sized("medium", 128.0, 128.0, 1.0, 10.0),  // 163840
		sized("batch", 128.0, 128.0, 4.0, 10.0),   // 655360
		sized("skipped", 2048.0, 2048.0, 1.0, 50), // 0
	}
	cases[5].Skip = "skip"
	ids := func(order []int) []string {
		var out []string
		for _, i := range order {
			out = append(out, cases[i].ID)
		}
		return out
	}
	planOrder := []string{"small-a", "big", "small-b", "medium", "batch", "skipped"}
	hist := HistoryFromRun(&report.Run{Cases: []report.Case{
		{ID: "small-a", ReplaySeconds: 9}, // slower than its size says (an els case, say)
		{ID: "medium", ReplaySeconds: 1},
		{ID: "skipped"}, // no replay recorded
	}})
	tests := []struct {
		name         string
		longestFirst bool
		hist         History
		want         []string
	}{
		{"one in flight", false, nil, planOrder},
		{"one in flight, history", false, hist, planOrder},
		{"longest first", true, nil, []string{"big", "batch", "medium", "small-a", "small-b", "skipped"}},
		// scale = (9+1)/(40960+163840) s per pixel-step: big ≈ 153 s,
		// batch ≈ 32 s, small-b ≈ 2 s.
		{"history", true, hist, []string{"big", "batch", "small-a", "small-b", "medium", "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ids(dispatchOrder(cases, tt.longestFirst, tt.hist))
			if !slices.Equal(got, tt.want) {
				t.Errorf("dispatch order %v, want %v", got, tt.want)
			}
		})
	}
}
