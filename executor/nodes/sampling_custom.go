package nodes

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// The custom-sampler family (comfy_extras/nodes_custom_sampler.py). NOISE
// values are sampling.Noise, SAMPLER *sampling.Sampler, SIGMAS
// sampling.Sigmas and GUIDER *sampling.Guider.

const smpCustomModule = "comfy_extras.nodes_custom_sampler"

func smpCustomSpec(name, category string, inputs []node.Input, outputs ...node.Output) node.Spec {
	return node.Spec{Name: name, DisplayName: name, Category: "sampling/custom_sampling" + category,
		Module: smpCustomModule, Inputs: inputs, Outputs: outputs}
}

// smpRandomNoiseNode is RandomNoise.
type smpRandomNoiseNode struct{}

func (smpRandomNoiseNode) Spec() node.Spec {
	return smpCustomSpec("RandomNoise", "/noise", []node.Input{smpNoTip(smpSeedInput("noise_seed"))}, node.Output{Type: sampling.TypeNoise})
}

func (smpRandomNoiseNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	seed, err := node.Uint(in, "noise_seed")
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{sampling.Noise(sampling.RandomNoise{NoiseSeed: seed})}}, nil
}

// smpDisableNoiseNode is DisableNoise.
type smpDisableNoiseNode struct{}

func (smpDisableNoiseNode) Spec() node.Spec {
	return smpCustomSpec("DisableNoise", "/noise", nil, node.Output{Type: sampling.TypeNoise})
}

func (smpDisableNoiseNode) Execute(context.Context, *node.Env, map[string]any) (node.Result, error) {
	return node.Result{Outputs: []any{sampling.Noise(sampling.EmptyNoise{})}}, nil
}

// smpSelectNode is KSamplerSelect.
type smpSelectNode struct{}

func (smpSelectNode) Spec() node.Spec {
	return smpCustomSpec("KSamplerSelect", "/samplers",
		[]node.Input{{Name: "sampler_name", Combo: sampling.SamplerNames()}}, node.Output{Type: sampling.TypeSampler})
}

func (smpSelectNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	name, err := node.String(in, "sampler_name")
	if err != nil {
		return node.Result{}, err
	}
	s, err := sampling.NewSampler(name)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{s}}, nil
}

// smpBasicSchedulerNode is BasicScheduler.
type smpBasicSchedulerNode struct{}

func (smpBasicSchedulerNode) Spec() node.Spec {
	return smpCustomSpec("BasicScheduler", "/schedulers", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "scheduler", Combo: sampling.SchedulerNames()},
		{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)},
		{Name: "denoise", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(1), Step: node.F(0.01)},
	}, node.Output{Type: sampling.TypeSigmas})
}

func (smpBasicSchedulerNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	m, err := node.As[node.Model](in, "model")
	if err != nil {
		return node.Result{}, err
	}
	sched, err := node.String(in, "scheduler")
	if err != nil {
		return node.Result{}, err
	}
	steps, err := node.Int(in, "steps")
	if err != nil {
		return node.Result{}, err
	}
	if steps < 1 || steps > 10000 {
		return node.Result{}, fmt.Errorf("input steps: %d out of range 1..10000", steps)
	}
	denoise, err := node.Float(in, "denoise")
	if err != nil {
		return node.Result{}, err
	}
	s, err := sampling.BasicSchedulerSigmas(m.SigmaTable(), sched, int(steps), denoise)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{sampling.Sigmas(s)}}, nil
}

// smpKarrasSchedulerNode is KarrasScheduler.
type smpKarrasSchedulerNode struct{}

func (smpKarrasSchedulerNode) Spec() node.Spec {
	f := func(name string, def, max float64) node.Input {
		return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(0), Max: node.F(max), Step: node.F(0.01)}
	}
	return smpCustomSpec("KarrasScheduler", "/schedulers", []node.Input{
		{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)},
		f("sigma_max", 14.614642, 5000),
		f("sigma_min", 0.0291675, 5000),
		f("rho", 7.0, 100),
	}, node.Output{Type: sampling.TypeSigmas})
}

func (smpKarrasSchedulerNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	steps, err := node.Int(in, "steps")
	if err != nil {
		return node.Result{}, err
	}
	if steps < 1 || steps > 10000 {
		return node.Result{}, fmt.Errorf("input steps: %d out of range 1..10000", steps)
	}
	var v [3]float64
	for i, name := range []string{"sigma_max", "sigma_min", "rho"} {
		if v[i], err = node.Float(in, name); err != nil {
			return node.Result{}, err
		}
	}
	s := sampling.KarrasSigmas(int(steps), v[1], v[0], v[2])
	for i := range s {
		s[i] = float64(float32(s[i]))
	}
	return node.Result{Outputs: []any{sampling.Sigmas(s)}}, nil
}

// smpBasicGuiderNode is BasicGuider: the model with one conditioning, no CFG.
type smpBasicGuiderNode struct{}

func (smpBasicGuiderNode) Spec() node.Spec {
	return smpCustomSpec("BasicGuider", "/guiders", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "conditioning", Type: node.TypeConditioning},
	}, node.Output{Type: sampling.TypeGuider})
}

func (smpBasicGuiderNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	m, err := node.As[node.Model](in, "model")
	if err != nil {
		return node.Result{}, err
	}
	c, err := node.As[node.Conditioning](in, "conditioning")
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{&sampling.Guider{Model: m, Positive: c, CFG: 1}}}, nil
}

// smpCFGGuiderNode is CFGGuider.
type smpCFGGuiderNode struct{}

func (smpCFGGuiderNode) Spec() node.Spec {
	return smpCustomSpec("CFGGuider", "/guiders", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "positive", Type: node.TypeConditioning},
		{Name: "negative", Type: node.TypeConditioning},
		smpNoTip(smpCFGInput()),
	}, node.Output{Type: sampling.TypeGuider})
}

func (smpCFGGuiderNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	m, err := node.As[node.Model](in, "model")
	if err != nil {
		return node.Result{}, err
	}
	pos, err := node.As[node.Conditioning](in, "positive")
	if err != nil {
		return node.Result{}, err
	}
	neg, err := node.As[node.Conditioning](in, "negative")
	if err != nil {
		return node.Result{}, err
	}
	cfg, err := node.Float(in, "cfg")
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{&sampling.Guider{Model: m, Positive: pos, Negative: neg, CFG: cfg}}}, nil
}

// smpCustomAdvancedNode is SamplerCustomAdvanced.
type smpCustomAdvancedNode struct{}

func (smpCustomAdvancedNode) Spec() node.Spec {
	return smpCustomSpec("SamplerCustomAdvanced", "", []node.Input{
		{Name: "noise", Type: sampling.TypeNoise},
		{Name: "guider", Type: sampling.TypeGuider},
		{Name: "sampler", Type: sampling.TypeSampler},
		{Name: "sigmas", Type: sampling.TypeSigmas},
		{Name: "latent_image", Type: node.TypeLatent},
	}, node.Output{Type: node.TypeLatent, Name: "output"}, node.Output{Type: node.TypeLatent, Name: "denoised_output"})
}

func (smpCustomAdvancedNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	noise, err := node.As[sampling.Noise](in, "noise")
	if err != nil {
		return node.Result{}, err
	}
	g, err := node.As[*sampling.Guider](in, "guider")
	if err != nil {
		return node.Result{}, err
	}
	s, err := node.As[*sampling.Sampler](in, "sampler")
	if err != nil {
		return node.Result{}, err
	}
	sig, err := node.As[sampling.Sigmas](in, "sigmas")
	if err != nil {
		return node.Result{}, err
	}
	lat, err := node.As[*node.Latent](in, "latent_image")
	if err != nil {
		return node.Result{}, err
	}
	out, den, err := smpJob{noise: noise, guider: g, sampler: s, sigmas: sig, latent: lat}.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out, den}}, nil
}

// smpCustomNode is SamplerCustom: CFG guidance and optional noise in one node.
type smpCustomNode struct{}

func (smpCustomNode) Spec() node.Spec {
	return smpCustomSpec("SamplerCustom", "", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "add_noise", Type: node.TypeBoolean, Default: true},
		smpNoTip(smpSeedInput("noise_seed")),
		smpNoTip(smpCFGInput()),
		{Name: "positive", Type: node.TypeConditioning},
		{Name: "negative", Type: node.TypeConditioning},
		{Name: "sampler", Type: sampling.TypeSampler},
		{Name: "sigmas", Type: sampling.TypeSigmas},
		{Name: "latent_image", Type: node.TypeLatent},
	}, node.Output{Type: node.TypeLatent, Name: "output"}, node.Output{Type: node.TypeLatent, Name: "denoised_output"})
}

func (smpCustomNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	m, err := node.As[node.Model](in, "model")
	if err != nil {
		return node.Result{}, err
	}
	add, err := node.Bool(in, "add_noise")
	if err != nil {
		return node.Result{}, err
	}
	seed, err := node.Uint(in, "noise_seed")
	if err != nil {
		return node.Result{}, err
	}
	cfg, err := node.Float(in, "cfg")
	if err != nil {
		return node.Result{}, err
	}
	pos, err := node.As[node.Conditioning](in, "positive")
	if err != nil {
		return node.Result{}, err
	}
	neg, err := node.As[node.Conditioning](in, "negative")
	if err != nil {
		return node.Result{}, err
	}
	s, err := node.As[*sampling.Sampler](in, "sampler")
	if err != nil {
		return node.Result{}, err
	}
	sig, err := node.As[sampling.Sigmas](in, "sigmas")
	if err != nil {
		return node.Result{}, err
	}
	lat, err := node.As[*node.Latent](in, "latent_image")
	if err != nil {
		return node.Result{}, err
	}
	var noise sampling.Noise = sampling.RandomNoise{NoiseSeed: seed}
	if !add {
		noise = smpSeededEmptyNoise{seed: seed} // sample_custom still gets seed=noise_seed
	}
	g := &sampling.Guider{Model: m, Positive: pos, Negative: neg, CFG: cfg}
	out, den, err := smpJob{noise: noise, guider: g, sampler: s, sigmas: sig, latent: lat}.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out, den}}, nil
}
