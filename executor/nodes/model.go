package nodes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/cpu"
	"github.com/regen-dev/regen/executor/model"
	"github.com/regen-dev/regen/executor/node"
)

// Model nodes of nodes.py: loaders (checkpoint, LoRA, VAE), the text
// encoder and conditioning plumbing, and VAE encode/decode, over the
// closed-form model of package model. MODEL values are *model.Model, CLIP
// values *model.TextEncoder, VAE values *model.VAE (each also satisfies the
// node interface of its type).
func modelNodes() []node.Node {
	return []node.Node{
		ckptLoaderNode{}, clipTextEncodeNode{}, condCombineNode{}, condZeroOutNode{},
		vaeDecodeNode{}, vaeEncodeNode{}, loraLoaderNode{}, vaeLoaderNode{},
	}
}

// attender returns the executor's backend, or a CPU backend when the node
// runs without resources (unit tests).
func attender(env *node.Env) (backend.Attender, error) {
	if env == nil || env.Resources == nil {
		return cpu.New(), nil
	}
	be, ok := env.Resources.Backend().(backend.Attender)
	if !ok {
		return nil, fmt.Errorf("get backend: %T does not compute attention", env.Resources.Backend())
	}
	return be, nil
}

// load caches an object under key in env.Resources, or just makes it.
func load[T any](env *node.Env, key string, fn func() (T, error)) (T, error) {
	if env == nil || env.Resources == nil {
		return fn()
	}
	v, err := env.Resources.Load(key, func() (any, error) { return fn() })
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// modelPath resolves a COMBO file name inside a models subfolder, with an
// error that names the file and the folder searched.
func modelPath(env *node.Env, folder, name string) (string, error) {
	models := ""
	if env != nil {
		models = env.Dirs.Models
	}
	dir := filepath.Join(models, folder)
	rel := filepath.FromSlash(name)
	if name == "" || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("find %s file %q: not a file name inside %s", folder, name, dir)
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find %s file %q: not found in %s", folder, name, dir)
		}
		return "", fmt.Errorf("find %s file %q: %w", folder, name, err)
	}
	return p, nil
}

// ckptLoaderNode is CheckpointLoaderSimple.
type ckptLoaderNode struct{}

func (ckptLoaderNode) Spec() node.Spec {
	return node.Spec{
		Name: "CheckpointLoaderSimple", DisplayName: "Load Checkpoint", Category: "loaders", Module: "nodes",
		Description: "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.",
		Inputs:      []node.Input{{Name: "ckpt_name", ComboFolder: "checkpoints", Tooltip: "The name of the checkpoint (model) to load."}},
		Outputs: []node.Output{
			{Type: node.TypeModel, Tooltip: "The model used for denoising latents."},
			{Type: node.TypeCLIP, Tooltip: "The CLIP model used for encoding text prompts."},
			{Type: node.TypeVAE, Tooltip: "The VAE model used for encoding and decoding images to and from latent space."},
		},
	}
}

func (ckptLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	name, err := node.String(in, "ckpt_name")
	if err != nil {
		return node.Result{}, err
	}
	path, err := modelPath(env, "checkpoints", name)
	if err != nil {
		return node.Result{}, err
	}
	be, err := attender(env)
	if err != nil {
		return node.Result{}, err
	}
	ck, err := load(env, "checkpoint:"+path, func() (*model.Checkpoint, error) { return model.LoadCheckpoint(path, be) })
	if err != nil {
		return node.Result{}, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	env.Log().Debug("checkpoint loaded", "name", name, "mode", ck.Config.Mode, "hash", ck.Hash)
	return node.Result{Outputs: []any{ck.Model(), ck.CLIP(), ck.VAE()}}, nil
}

// clipTextEncodeNode is CLIPTextEncode.
type clipTextEncodeNode struct{}

func (clipTextEncodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "CLIPTextEncode", DisplayName: "CLIP Text Encode (Prompt)", Category: "conditioning", Module: "nodes",
		Description: "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.",
		Inputs: []node.Input{
			{Name: "text", Type: node.TypeString, Multiline: true, DynamicPrompts: true, Tooltip: "The text to be encoded."},
			{Name: "clip", Type: node.TypeCLIP, Tooltip: "The CLIP model used for encoding the text."},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning, Tooltip: "A conditioning containing the embedded text used to guide the diffusion model."}},
	}
}

func (clipTextEncodeNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	text, err := node.String(in, "text")
	if err != nil {
		return node.Result{}, err
	}
	clip, err := node.As[node.CLIP](in, "clip")
	if err != nil {
		return node.Result{}, err
	}
	if enc, ok := clip.(*model.TextEncoder); ok {
		if e := enc.EncodeDetail(text); len(e.Unknown) > 0 {
			env.Log().Debug("prompt words not in the vocabulary were ignored", "words", e.Unknown)
		}
	}
	c, err := clip.Encode(text)
	if err != nil {
		return node.Result{}, fmt.Errorf("encode text: %w", err)
	}
	return node.Result{Outputs: []any{node.Conditioning{c}}}, nil
}

// condCombineNode is ConditioningCombine: list concatenation.
type condCombineNode struct{}

func (condCombineNode) Spec() node.Spec {
	return node.Spec{
		Name: "ConditioningCombine", DisplayName: "Conditioning (Combine)", Category: "conditioning", Module: "nodes",
		Inputs: []node.Input{
			{Name: "conditioning_1", Type: node.TypeConditioning},
			{Name: "conditioning_2", Type: node.TypeConditioning},
		},
		Outputs: []node.Output{{Type: node.TypeConditioning}},
	}
}

func (condCombineNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	a, err := node.As[node.Conditioning](in, "conditioning_1")
	if err != nil {
		return node.Result{}, err
	}
	b, err := node.As[node.Conditioning](in, "conditioning_2")
	if err != nil {
		return node.Result{}, err
	}
	out := make(node.Conditioning, 0, len(a)+len(b))
	return node.Result{Outputs: []any{append(append(out, a...), b...)}}, nil
}

// condZeroOutNode is ConditioningZeroOut: every embedding becomes zeros
// (a uniform prior over the exemplars).
type condZeroOutNode struct{}

func (condZeroOutNode) Spec() node.Spec {
	return node.Spec{
		Name: "ConditioningZeroOut", DisplayName: "ConditioningZeroOut", Category: "advanced/conditioning", Module: "nodes",
		Inputs:  []node.Input{{Name: "conditioning", Type: node.TypeConditioning}},
		Outputs: []node.Output{{Type: node.TypeConditioning}},
	}
}

func (condZeroOutNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	c, err := node.As[node.Conditioning](in, "conditioning")
	if err != nil {
		return node.Result{}, err
	}
	out := make(node.Conditioning, len(c))
	for i, e := range c {
		out[i] = node.Cond{Vec: make([]float32, len(e.Vec)), Text: e.Text}
	}
	return node.Result{Outputs: []any{out}}, nil
}

// vaeDecodeNode is VAEDecode.
type vaeDecodeNode struct{}

func (vaeDecodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAEDecode", DisplayName: "VAE Decode", Category: "latent", Module: "nodes",
		Description: "Decodes latent images back into pixel space images.",
		Inputs: []node.Input{
			{Name: "samples", Type: node.TypeLatent, Tooltip: "The latent to be decoded."},
			{Name: "vae", Type: node.TypeVAE, Tooltip: "The VAE model used for decoding the latent."},
		},
		Outputs: []node.Output{{Type: node.TypeImage, Tooltip: "The decoded image."}},
	}
}

func (vaeDecodeNode) Execute(ctx context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	lat, err := node.As[*node.Latent](in, "samples")
	if err != nil {
		return node.Result{}, err
	}
	vae, err := node.As[node.VAE](in, "vae")
	if err != nil {
		return node.Result{}, err
	}
	img, err := vae.Decode(ctx, lat.Samples)
	if err != nil {
		return node.Result{}, fmt.Errorf("vae decode: %w", err)
	}
	return node.Result{Outputs: []any{img}}, nil
}

// vaeEncodeNode is VAEEncode.
type vaeEncodeNode struct{}

func (vaeEncodeNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAEEncode", DisplayName: "VAE Encode", Category: "latent", Module: "nodes",
		Inputs: []node.Input{
			{Name: "pixels", Type: node.TypeImage},
			{Name: "vae", Type: node.TypeVAE},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (vaeEncodeNode) Execute(ctx context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	img, err := node.As[*node.Image](in, "pixels")
	if err != nil {
		return node.Result{}, err
	}
	vae, err := node.As[node.VAE](in, "vae")
	if err != nil {
		return node.Result{}, err
	}
	t, err := vae.Encode(ctx, img)
	if err != nil {
		return node.Result{}, fmt.Errorf("vae encode: %w", err)
	}
	return node.Result{Outputs: []any{&node.Latent{Samples: t}}}, nil
}

// loraLoaderNode is LoraLoader.
type loraLoaderNode struct{}

func (loraLoaderNode) Spec() node.Spec {
	strength := func(name, tip string) node.Input {
		return node.Input{Name: name, Type: node.TypeFloat, Default: 1.0, Min: node.F(-100), Max: node.F(100), Step: node.F(0.01), Tooltip: tip}
	}
	return node.Spec{
		Name: "LoraLoader", DisplayName: "Load LoRA", Category: "loaders", Module: "nodes",
		Description: "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
		Inputs: []node.Input{
			{Name: "model", Type: node.TypeModel, Tooltip: "The diffusion model the LoRA will be applied to."},
			{Name: "clip", Type: node.TypeCLIP, Tooltip: "The CLIP model the LoRA will be applied to."},
			{Name: "lora_name", ComboFolder: "loras", Tooltip: "The name of the LoRA."},
			strength("strength_model", "How strongly to modify the diffusion model. This value can be negative."),
			strength("strength_clip", "How strongly to modify the CLIP model. This value can be negative."),
		},
		Outputs: []node.Output{
			{Type: node.TypeModel, Tooltip: "The modified diffusion model."},
			{Type: node.TypeCLIP, Tooltip: "The modified CLIP model."},
		},
	}
}

func (loraLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	m, err := node.As[node.Model](in, "model")
	if err != nil {
		return node.Result{}, err
	}
	clip, err := node.As[node.CLIP](in, "clip")
	if err != nil {
		return node.Result{}, err
	}
	name, err := node.String(in, "lora_name")
	if err != nil {
		return node.Result{}, err
	}
	sm, err := node.Float(in, "strength_model")
	if err != nil {
		return node.Result{}, err
	}
	sc, err := node.Float(in, "strength_clip")
	if err != nil {
		return node.Result{}, err
	}
	if sm == 0 && sc == 0 {
		return node.Result{Outputs: []any{m, clip}}, nil
	}
	path, err := modelPath(env, "loras", name)
	if err != nil {
		return node.Result{}, err
	}
	lora, err := load(env, "lora:"+path, func() (*model.LoRA, error) { return model.LoadLoRA(path) })
	if err != nil {
		return node.Result{}, fmt.Errorf("load LoRA %s: %w", name, err)
	}
	outM, outC := any(m), any(clip)
	if sm != 0 {
		rm, ok := m.(*model.Model)
		if !ok {
			return node.Result{}, fmt.Errorf("apply LoRA %s: model %T is not a regen-cfd model", name, m)
		}
		if outM, err = rm.WithLoRA(lora, sm); err != nil {
			return node.Result{}, err
		}
	}
	if sc != 0 {
		rc, ok := clip.(*model.TextEncoder)
		if !ok {
			return node.Result{}, fmt.Errorf("apply LoRA %s: clip %T is not a regen-cfd text encoder", name, clip)
		}
		if outC, err = rc.WithLoRA(lora, sc); err != nil {
			return node.Result{}, err
		}
	}
	return node.Result{Outputs: []any{outM, outC}}, nil
}

// vaeLoaderNode is VAELoader: the VAE of any regen-cfd checkpoint file put
// in models/vae.
type vaeLoaderNode struct{}

func (vaeLoaderNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAELoader", DisplayName: "Load VAE", Category: "loaders", Module: "nodes",
		Inputs:  []node.Input{{Name: "vae_name", ComboFolder: "vae"}},
		Outputs: []node.Output{{Type: node.TypeVAE}},
	}
}

func (vaeLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	name, err := node.String(in, "vae_name")
	if err != nil {
		return node.Result{}, err
	}
	path, err := modelPath(env, "vae", name)
	if err != nil {
		return node.Result{}, err
	}
	be, err := attender(env)
	if err != nil {
		return node.Result{}, err
	}
	vae, err := load(env, "vae:"+path, func() (*model.VAE, error) { return model.LoadVAE(path, be) })
	if err != nil {
		return node.Result{}, fmt.Errorf("load VAE %s: %w", name, err)
	}
	return node.Result{Outputs: []any{vae}}, nil
}
