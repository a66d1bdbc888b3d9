package conditioning

import (
	"context"

	"github.com/regen-dev/regen/executor/node"
)

// The ControlNet apply nodes of nodes.py: ControlNetApplyAdvanced and the
// older ControlNetApply. Applying one attaches a node.Control to every entry
// of the conditioning; the model honours it while σ is inside its
// start/end percent. The CONTROL_NET value comes from ControlNetLoader
// (package loader).

func controlNetStrength() node.Input {
	return node.Input{Name: "strength", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(10), Step: node.F(0.01)}
}

func controlNetPercent(name string, def float64) node.Input {
	return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(0), Max: node.F(1), Step: node.F(0.001)}
}

// attachControl returns a copy of c with the control appended to every
// entry (a strength of 0 returns c unchanged, as ComfyUI does).
func attachControl(c node.Conditioning, ctl node.Control) node.Conditioning {
	if ctl.Strength == 0 {
		return c
	}
	out := make(node.Conditioning, len(c))
	for i, e := range c {
		e.Control = append(append([]node.Control(nil), e.Control...), ctl)
		out[i] = e
	}
	return out
}

// readControl reads the inputs both apply nodes share.
func readControl(r *node.Reader) node.Control {
	return node.Control{
		Net:      node.Get[node.ControlNet](r, "control_net"),
		Hint:     r.Image("image"),
		Strength: r.Float("strength"),
		Start:    0,
		End:      1,
	}
}

type controlNetApplyNode struct{}

func (controlNetApplyNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetApply", DisplayName: "Apply ControlNet (DEPRECATED)", Category: "model/conditioning/controlnet", Module: "nodes",
		Deprecated: true,
		Inputs: []node.Input{
			{Name: "conditioning", Type: node.TypeConditioning},
			{Name: "control_net", Type: node.TypeControlNet},
			{Name: "image", Type: node.TypeImage},
			controlNetStrength(),
		},
		Outputs: []node.Output{{Type: node.TypeConditioning}},
	}
}

func (controlNetApplyNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	c := r.Conditioning("conditioning")
	ctl := readControl(r)
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{attachControl(c, ctl)}}, nil
}

type controlNetApplyAdvancedNode struct{}

func (controlNetApplyAdvancedNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetApplyAdvanced", DisplayName: "Apply ControlNet", Category: "model/conditioning/controlnet", Module: "nodes",
		SearchAliases: []string{"controlnet", "apply controlnet", "use controlnet", "control net"},
		Inputs: []node.Input{
			{Name: "positive", Type: node.TypeConditioning},
			{Name: "negative", Type: node.TypeConditioning},
			{Name: "control_net", Type: node.TypeControlNet},
			{Name: "image", Type: node.TypeImage},
			controlNetStrength(),
			controlNetPercent("start_percent", 0),
			controlNetPercent("end_percent", 1),
			{Name: "vae", Type: node.TypeVAE, Optional: true},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning, Name: "positive"}, {Type: node.TypeConditioning, Name: "negative"}},
	}
}

func (controlNetApplyAdvancedNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	pos, neg := r.Conditioning("positive"), r.Conditioning("negative")
	ctl := readControl(r)
	ctl.Start, ctl.End = r.Float("start_percent"), r.Float("end_percent")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{attachControl(pos, ctl), attachControl(neg, ctl)}}, nil
}
