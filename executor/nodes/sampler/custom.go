package sampler

import (
	"context"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/sampling"
)

// The custom-sampler family (comfy_extras/nodes_custom_sampler.py). NOISE
// values are sampling.Noise, SAMPLER *sampling.Sampler, SIGMAS
// sampling.Sigmas and GUIDER *sampling.Guider.

const customModule = "comfy_extras.nodes_custom_sampler"

// customCategory is ComfyUI 0.33.0's category of a custom-sampling node:
// model/sampling/<sub>, and model/sampling/custom for the samplers
// themselves (v0.3.64: sampling/custom_sampling[/<sub>]).
func customCategory(sub string) string {
	if sub == "" {
		return "model/sampling/custom"
	}
	return "model/sampling" + sub
}

// customDisplayNames are the custom-sampling nodes whose display name is
// not their class name (ComfyUI 0.33.0).
var customDisplayNames = map[string]string{"BasicGuider": "Basic Guider", "CFGGuider": "CFG Guider"}

func customSpec(name, category string, inputs []node.Input, outputs ...node.Output) node.Spec {
	display := name
	if d, ok := customDisplayNames[name]; ok {
		display = d
	}
	return node.Spec{Name: name, DisplayName: display, Category: customCategory(category),
		Module: customModule, Inputs: inputs, Outputs: outputs, V3: true}
}

// randomNoiseNode is RandomNoise.
type randomNoiseNode struct{}

func (randomNoiseNode) Spec() node.Spec {
	return customSpec("RandomNoise", "/noise", []node.Input{noTip(seedInput("noise_seed"))}, node.Output{Type: sampling.TypeNoise})
}

func (randomNoiseNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	seed := r.Uint("noise_seed")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{sampling.Noise(sampling.RandomNoise{NoiseSeed: seed})}}, nil
}

// disableNoiseNode is DisableNoise.
type disableNoiseNode struct{}

func (disableNoiseNode) Spec() node.Spec {
	spec := customSpec("DisableNoise", "/noise", nil, node.Output{Type: sampling.TypeNoise})
	spec.SearchAliases = []string{"zero noise"}
	return spec
}

func (disableNoiseNode) Execute(context.Context, *node.Env, map[string]any) (node.Result, error) {
	return node.Result{Outputs: []any{sampling.Noise(sampling.EmptyNoise{})}}, nil
}

// selectNode is KSamplerSelect.
type selectNode struct{}

func (selectNode) Spec() node.Spec {
	return customSpec("KSamplerSelect", "/samplers",
		[]node.Input{{Name: "sampler_name", Combo: sampling.SamplerNames()}}, node.Output{Type: sampling.TypeSampler})
}

func (selectNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	name := r.String("sampler_name")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	s, err := sampling.NewSampler(name)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{s}}, nil
}

// basicSchedulerNode is BasicScheduler.
type basicSchedulerNode struct{}

func (basicSchedulerNode) Spec() node.Spec {
	return customSpec("BasicScheduler", "/schedulers", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "scheduler", Combo: sampling.SchedulerNames()},
		{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)},
		{Name: "denoise", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(1), Step: node.F(0.01)},
	}, node.Output{Type: sampling.TypeSigmas})
}

func (basicSchedulerNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	m := r.Model("model")
	sched := r.String("scheduler")
	steps := r.IntIn("steps", 1, 10000)
	denoise := r.Float("denoise")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	s, err := sampling.BasicSchedulerSigmas(m.SigmaTable(), sched, int(steps), denoise)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{sampling.Sigmas(s)}}, nil
}

// karrasSchedulerNode is KarrasScheduler.
type karrasSchedulerNode struct{}

func (karrasSchedulerNode) Spec() node.Spec {
	f := func(name string, def, max float64) node.Input {
		return node.Input{Name: name, Type: node.TypeFloat, Default: def, Min: node.F(0), Max: node.F(max), Step: node.F(0.01), NoRound: true, Advanced: true}
	}
	return customSpec("KarrasScheduler", "/schedulers", []node.Input{
		{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000)},
		f("sigma_max", 14.614642, 5000),
		f("sigma_min", 0.0291675, 5000),
		f("rho", 7.0, 100),
	}, node.Output{Type: sampling.TypeSigmas})
}

func (karrasSchedulerNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	steps := r.IntIn("steps", 1, 10000)
	sigmaMax, sigmaMin, rho := r.Float("sigma_max"), r.Float("sigma_min"), r.Float("rho")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	s := sampling.KarrasSigmas(int(steps), sigmaMin, sigmaMax, rho)
	for i := range s {
		s[i] = float64(float32(s[i]))
	}
	return node.Result{Outputs: []any{sampling.Sigmas(s)}}, nil
}

// basicGuiderNode is BasicGuider: the model with one conditioning, no CFG.
type basicGuiderNode struct{}

func (basicGuiderNode) Spec() node.Spec {
	return customSpec("BasicGuider", "/guiders", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "conditioning", Type: node.TypeConditioning},
	}, node.Output{Type: sampling.TypeGuider})
}

func (basicGuiderNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	m := r.Model("model")
	c := r.Conditioning("conditioning")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{&sampling.Guider{Model: m, Positive: c, CFG: 1}}}, nil
}

// cfgGuiderNode is CFGGuider.
type cfgGuiderNode struct{}

func (cfgGuiderNode) Spec() node.Spec {
	return customSpec("CFGGuider", "/guiders", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "positive", Type: node.TypeConditioning},
		{Name: "negative", Type: node.TypeConditioning},
		noTip(cfgInput()),
	}, node.Output{Type: sampling.TypeGuider})
}

func (cfgGuiderNode) Execute(_ context.Context, _ *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	g := &sampling.Guider{Model: r.Model("model"), Positive: r.Conditioning("positive"),
		Negative: r.Conditioning("negative"), CFG: r.Float("cfg")}
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{g}}, nil
}

// customAdvancedNode is SamplerCustomAdvanced.
type customAdvancedNode struct{}

func (customAdvancedNode) Spec() node.Spec {
	return customSpec("SamplerCustomAdvanced", "", []node.Input{
		{Name: "noise", Type: sampling.TypeNoise},
		{Name: "guider", Type: sampling.TypeGuider},
		{Name: "sampler", Type: sampling.TypeSampler},
		{Name: "sigmas", Type: sampling.TypeSigmas},
		{Name: "latent_image", Type: node.TypeLatent},
	}, node.Output{Type: node.TypeLatent, Name: "output"}, node.Output{Type: node.TypeLatent, Name: "denoised_output"})
}

func (customAdvancedNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	j := job{
		noise:   node.Get[sampling.Noise](r, "noise"),
		guider:  node.Get[*sampling.Guider](r, "guider"),
		sampler: node.Get[*sampling.Sampler](r, "sampler"),
		sigmas:  node.Get[sampling.Sigmas](r, "sigmas"),
		latent:  r.Latent("latent_image"),
	}
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	out, den, err := j.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out, den}}, nil
}

// customNode is SamplerCustom: CFG guidance and optional noise in one node.
type customNode struct{}

func (customNode) Spec() node.Spec {
	return customSpec("SamplerCustom", "", []node.Input{
		{Name: "model", Type: node.TypeModel},
		{Name: "add_noise", Type: node.TypeBoolean, Default: true, Advanced: true},
		noTip(seedInput("noise_seed")),
		noTip(cfgInput()),
		{Name: "positive", Type: node.TypeConditioning},
		{Name: "negative", Type: node.TypeConditioning},
		{Name: "sampler", Type: sampling.TypeSampler},
		{Name: "sigmas", Type: sampling.TypeSigmas},
		{Name: "latent_image", Type: node.TypeLatent},
	}, node.Output{Type: node.TypeLatent, Name: "output"}, node.Output{Type: node.TypeLatent, Name: "denoised_output"})
}

func (customNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	m := r.Model("model")
	add := r.Bool("add_noise")
	seed := r.Uint("noise_seed")
	g := &sampling.Guider{Model: m, CFG: r.Float("cfg"), Positive: r.Conditioning("positive"), Negative: r.Conditioning("negative")}
	j := job{guider: g, sampler: node.Get[*sampling.Sampler](r, "sampler"),
		sigmas: node.Get[sampling.Sigmas](r, "sigmas"), latent: r.Latent("latent_image")}
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	j.noise = sampling.RandomNoise{NoiseSeed: seed}
	if !add {
		j.noise = seededEmptyNoise{seed: seed} // sample_custom still gets seed=noise_seed
	}
	out, den, err := j.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out, den}}, nil
}
