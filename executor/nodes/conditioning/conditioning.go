package conditioning

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
)

// Nodes returns the conditioning node classes: CLIPTextEncode,
// ConditioningCombine, ConditioningZeroOut, ControlNetApply and
// ControlNetApplyAdvanced.
func Nodes() []node.Node {
	return []node.Node{textEncodeNode{}, combineNode{}, zeroOutNode{}, controlNetApplyNode{}, controlNetApplyAdvancedNode{}}
}

// textEncodeNode is CLIPTextEncode.
type textEncodeNode struct{}

func (textEncodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "CLIPTextEncode", DisplayName: "CLIP Text Encode (Prompt)", Category: "model/conditioning", Module: "nodes",
		SearchAliases: []string{"text", "prompt", "text prompt", "positive prompt", "negative prompt", "encode text", "text encoder", "encode prompt"},
		Description:   "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.",
		Inputs: []node.Input{
			{Name: "text", Type: node.TypeString, Multiline: true, DynamicPrompts: true, Tooltip: "The text to be encoded."},
			{Name: "clip", Type: node.TypeCLIP, Tooltip: "The CLIP model used for encoding the text."},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning, Tooltip: "A conditioning containing the embedded text used to guide the diffusion model."}},
	}
}

func (textEncodeNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	text, clip := r.String("text"), r.CLIP("clip")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if enc, ok := clip.(*model.TextEncoder); ok {
		if e := enc.EncodeDetail(text); len(e.Unknown) > 0 {
			env.Log().Debug("prompt words outside the vocabulary steer by their hashed directions", "words", e.Unknown)
		}
	}
	c, err := clip.Encode(text)
	if err != nil {
		return node.Result{}, fmt.Errorf("encode text: %w", err)
	}
	return node.Result{Outputs: []any{node.Conditioning{c}}}, nil
}

// combineNode is ConditioningCombine: list concatenation.
type combineNode struct{}

func (combineNode) Spec() node.Spec {
	return node.Spec{
		Name: "ConditioningCombine", DisplayName: "Conditioning (Combine)", Category: "model/conditioning/transform", Module: "nodes",
		SearchAliases: []string{"combine", "merge conditioning", "combine prompts", "merge prompts", "mix prompts", "add prompt"}, EssentialsCategory: "Image Generation",
		Inputs: []node.Input{
			{Name: "conditioning_1", Type: node.TypeConditioning},
			{Name: "conditioning_2", Type: node.TypeConditioning},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning}},
	}
}

func (combineNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	a, b := r.Conditioning("conditioning_1"), r.Conditioning("conditioning_2")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	out := make(node.Conditioning, 0, len(a)+len(b))
	return node.Result{Outputs: []any{append(append(out, a...), b...)}}, nil
}

// zeroOutNode is ConditioningZeroOut: every embedding becomes zeros
// (a uniform prior over the exemplars).
type zeroOutNode struct{}

func (zeroOutNode) Spec() node.Spec {
	return node.Spec{
		Name: "ConditioningZeroOut", DisplayName: "Conditioning Zero Out", Category: "model/conditioning/transform", Module: "nodes",
		SearchAliases: []string{"null conditioning", "clear conditioning"},
		Inputs:        []node.Input{{Name: "conditioning", Type: node.TypeConditioning}},
		Outputs:       []node.Output{{Type: node.TypeConditioning}},
	}
}

func (zeroOutNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	c := r.Conditioning("conditioning")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	out := make(node.Conditioning, len(c))
	for i, e := range c {
		out[i] = node.Cond{Vec: make([]float32, len(e.Vec)), Text: e.Text, Control: e.Control}
	}
	return node.Result{Outputs: []any{out}}, nil
}
