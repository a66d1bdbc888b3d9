package loader

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
)

// controlNetLoaderNode is ControlNetLoader: a fixture control model of
// package model (model.ControlNet) from models/controlnet, as a
// CONTROL_NET value for the apply nodes of package conditioning.
type controlNetLoaderNode struct{}

func (controlNetLoaderNode) Spec() node.Spec {
	return node.Spec{
		Name: "ControlNetLoader", DisplayName: "Load ControlNet Model", Category: "model/loaders", Module: "nodes",
		SearchAliases: []string{"controlnet", "control net", "cn", "load controlnet", "controlnet loader"},
		Inputs:        []node.Input{{Name: "control_net_name", ComboFolder: "controlnet"}},
		Outputs:       []node.Output{{Type: node.TypeControlNet}},
	}
}

func (controlNetLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	name := r.String("control_net_name")
	if err := r.Err(); err != nil {
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
