package nodes

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
)

// ControlNet nodes of nodes.py (issue 13): ControlNetLoader,
// ControlNetApplyAdvanced and the older ControlNetApply, over the fixture
// control models of package model (model.ControlNet, under
// models/controlnet). Applying one attaches a node.Control to every entry
// of the conditioning; the model honours it while σ is inside its
// start/end percent. Self-contained so that it can move onto the typed
// input reader as it is.
func controlNetNodes() []node.Node {
	return []node.Node{cnLoaderNode{}, cnApplyNode{}, cnApplyAdvancedNode{}}
}

// TypeControlNet is the CONTROL_NET link type.
const TypeControlNet = "CONTROL_NET"

type cnLoaderNode struct{}

func (cnLoaderNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetLoader", DisplayName: "Load ControlNet Model", Category: "loaders", Module: "nodes",
		Inputs:  []node.Input{{Name: "control_net_name", ComboFolder: "controlnet"}},
		Outputs: []node.Output{{Type: TypeControlNet}},
	}
}

func (cnLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	name, err := node.String(in, "control_net_name")
	if err != nil {
		return node.Result{}, err
	}
	path, err := modelPath(env, "controlnet", name)
	if err != nil {
		return node.Result{}, err
	}
	c, err := load(env, "controlnet:"+path, func() (*model.ControlNet, error) { return model.LoadControlNet(path) })
	if err != nil {
		return node.Result{}, fmt.Errorf("load ControlNet %s: %w", name, err)
	}
	return node.Result{Outputs: []any{c}}, nil
}

func cnStrength() node.Input {
	return node.Input{Name: "strength", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(10), Step: node.F(0.01)}
}

func cnPercent(name string, def float64) node.Input {
	return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(0), Max: node.F(1), Step: node.F(0.001)}
}

// cnAttach returns a copy of c with the control appended to every entry
// (a strength of 0 returns c unchanged, as ComfyUI does).
func cnAttach(c node.Conditioning, ctl node.Control) node.Conditioning {
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

// cnRead reads the inputs both apply nodes share.
func cnRead(in map[string]any) (node.Control, error) {
	net, err := node.As[node.ControlNet](in, "control_net")
	if err != nil {
		return node.Control{}, err
	}
	img, err := node.As[*node.Image](in, "image")
	if err != nil {
		return node.Control{}, err
	}
	s, err := node.Float(in, "strength")
	if err != nil {
		return node.Control{}, err
	}
	return node.Control{Net: net, Hint: img, Strength: s, Start: 0, End: 1}, nil
}

type cnApplyNode struct{}

func (cnApplyNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetApply", DisplayName: "Apply ControlNet (OLD)", Category: "conditioning/controlnet", Module: "nodes",
		Deprecated: true,
		Inputs: []node.Input{
			{Name: "conditioning", Type: node.TypeConditioning},
			{Name: "control_net", Type: TypeControlNet},
			{Name: "image", Type: node.TypeImage},
			cnStrength(),
		},
		Outputs: []node.Output{{Type: node.TypeConditioning}},
	}
}

func (cnApplyNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	c, err := node.As[node.Conditioning](in, "conditioning")
	if err != nil {
		return node.Result{}, err
	}
	ctl, err := cnRead(in)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{cnAttach(c, ctl)}}, nil
}

type cnApplyAdvancedNode struct{}

func (cnApplyAdvancedNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetApplyAdvanced", DisplayName: "Apply ControlNet", Category: "conditioning/controlnet", Module: "nodes",
		Inputs: []node.Input{
			{Name: "positive", Type: node.TypeConditioning},
			{Name: "negative", Type: node.TypeConditioning},
			{Name: "control_net", Type: TypeControlNet},
			{Name: "image", Type: node.TypeImage},
			cnStrength(),
			cnPercent("start_percent", 0),
			cnPercent("end_percent", 1),
			{Name: "vae", Type: node.TypeVAE, Optional: true},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning, Name: "positive"}, {Type: node.TypeConditioning, Name: "negative"}},
	}
}

func (cnApplyAdvancedNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	pos, err := node.As[node.Conditioning](in, "positive")
	if err != nil {
		return node.Result{}, err
	}
	neg, err := node.As[node.Conditioning](in, "negative")
	if err != nil {
		return node.Result{}, err
	}
	ctl, err := cnRead(in)
	if err != nil {
		return node.Result{}, err
	}
	if ctl.Start, err = node.Float(in, "start_percent"); err != nil {
		return node.Result{}, err
	}
	if ctl.End, err = node.Float(in, "end_percent"); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{cnAttach(pos, ctl), cnAttach(neg, ctl)}}, nil
}
