package loader

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

// Nodes returns the loader node classes: CheckpointLoaderSimple,
// LoraLoader, VAELoader and ControlNetLoader.
func Nodes() []node.Node {
	return []node.Node{ckptLoaderNode{}, loraLoaderNode{}, vaeLoaderNode{}, controlNetLoaderNode{}}
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
		Name: "CheckpointLoaderSimple", DisplayName: "Load Checkpoint", Category: "model/loaders", Module: "nodes",
		SearchAliases: []string{"load model", "checkpoint", "model loader", "load checkpoint", "ckpt", "model"},
		Description:   "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.",
		Inputs:        []node.Input{{Name: "ckpt_name", ComboFolder: "checkpoints", Tooltip: "The name of the checkpoint (model) to load."}},
		Outputs: []node.Output{
			{Type: node.TypeModel, Tooltip: "The model used for denoising latents."},
			{Type: node.TypeCLIP, Tooltip: "The CLIP model used for encoding text prompts."},
			{Type: node.TypeVAE, Tooltip: "The VAE model used for encoding and decoding images to and from latent space."},
		},
	}
}

func (ckptLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	name := r.String("ckpt_name")
	if err := r.Err(); err != nil {
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

// loraLoaderNode is LoraLoader.
type loraLoaderNode struct{}

func (loraLoaderNode) Spec() node.Spec {
	strength := func(name, tip string) node.Input {
		return node.Input{Name: name, Type: node.TypeFloat, Default: 1.0, Min: node.F(-100), Max: node.F(100), Step: node.F(0.01), Tooltip: tip}
	}
	return node.Spec{
		Name: "LoraLoader", DisplayName: "Load LoRA (Model and CLIP)", Category: "model/loaders", Module: "nodes",
		SearchAliases: []string{"lora", "load lora", "apply lora", "lora loader", "lora model"}, EssentialsCategory: "Image Generation",
		Description: "This LoRA loader is used to modify both diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
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
	r := node.Inputs(in)
	m, clip, name := r.Model("model"), r.CLIP("clip"), r.String("lora_name")
	sm, sc := r.Float("strength_model"), r.Float("strength_clip")
	if err := r.Err(); err != nil {
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
// in models/vae, or "pixel_space" (ComfyUI 0.33.0 nodes.py vae_list, listed
// after the files).
type vaeLoaderNode struct{}

func (vaeLoaderNode) Spec() node.Spec {
	return node.Spec{
		Name: "VAELoader", DisplayName: "Load VAE", Category: "model/loaders", Module: "nodes",
		Inputs:  []node.Input{{Name: "vae_name", ComboFolder: "vae", ComboExtra: []string{PixelSpace}}},
		Outputs: []node.Output{{Type: node.TypeVAE}},
	}
}

func (vaeLoaderNode) Execute(_ context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	name := r.String("vae_name")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	if name == PixelSpace {
		return node.Result{Outputs: []any{PixelSpaceVAE{}}}, nil
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
