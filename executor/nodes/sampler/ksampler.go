package sampler

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/resample"
	"github.com/regen-dev/regen/executor/sampling"
)

// Nodes returns the sampling node classes: KSampler, KSamplerAdvanced and
// the custom-sampler family with its schedulers and SIGMAS helpers.
func Nodes() []node.Node {
	return append([]node.Node{
		kSamplerNode{},
		kSamplerAdvancedNode{},
		randomNoiseNode{},
		disableNoiseNode{},
		selectNode{},
		basicSchedulerNode{},
		karrasSchedulerNode{},
		basicGuiderNode{},
		cfgGuiderNode{},
		customAdvancedNode{},
		customNode{},
	}, sigmaNodes()...)
}

// Shared input declarations (ComfyUI's nodes.py KSampler.INPUT_TYPES).
func seedInput(name string) node.Input {
	return node.Input{Name: name, Type: node.TypeInt, Default: int64(0), Min: node.F(0),
		Max: node.F(18446744073709551615), ControlAfterGenerate: true,
		Tooltip: "The random seed used for creating the noise."}
}

func stepsInput() node.Input {
	return node.Input{Name: "steps", Type: node.TypeInt, Default: int64(20), Min: node.F(1), Max: node.F(10000),
		Tooltip: "The number of steps used in the denoising process."}
}

func cfgInput() node.Input {
	return node.Input{Name: "cfg", Type: node.TypeFloat, Default: 8.0, Min: node.F(0), Max: node.F(100),
		Step: node.F(0.1), Round: node.F(0.01),
		Tooltip: "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality."}
}

func samplerInput() node.Input {
	return node.Input{Name: "sampler_name", Combo: sampling.SamplerNames(),
		Tooltip: "The algorithm used when sampling, this can affect the quality, speed, and style of the generated output."}
}

func schedulerInput() node.Input {
	return node.Input{Name: "scheduler", Combo: sampling.SchedulerNames(),
		Tooltip: "The scheduler controls how noise is gradually removed to form the image."}
}

func denoiseInput() node.Input {
	return node.Input{Name: "denoise", Type: node.TypeFloat, Default: 1.0, Min: node.F(0), Max: node.F(1), Step: node.F(0.01),
		Tooltip: "The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling."}
}

// noTip drops an input's tooltip (KSamplerAdvanced and the custom
// sampler nodes declare none).
func noTip(in node.Input) node.Input {
	in.Tooltip = ""
	return in
}

// job is one sampling run: common_ksampler / SamplerCustomAdvanced.
type job struct {
	noise   sampling.Noise
	guider  *sampling.Guider
	sampler *sampling.Sampler
	sigmas  []float64
	latent  *node.Latent
}

// run samples and returns the output latent and the denoised prediction of
// the last step (SamplerCustomAdvanced's denoised_output; the output itself
// when no step ran). Output latents copy the input's batch_index and
// noise_mask, as ComfyUI's latent.copy().
func (j job) run(ctx context.Context, env *node.Env) (out, denoised *node.Latent, err error) {
	if j.latent == nil || j.latent.Samples == nil {
		return nil, nil, fmt.Errorf("sample: latent has no samples")
	}
	lat := *j.latent
	lat.Samples = fixChannels(j.guider.Model, lat.Samples)
	noise, err := j.noise.Generate(lat)
	if err != nil {
		return nil, nil, fmt.Errorf("generate noise: %w", err)
	}
	var last *node.Tensor
	total := max(len(j.sigmas)-1, 0)
	opts := &sampling.Options{
		Seed:     j.noise.Seed(),
		Progress: func(v, m int) error { return env.CheckProgress(v, m) },
		Callback: func(_ int, _, d *node.Tensor) { last = d },
	}
	env.Log().Debug("sampling", "sampler", j.sampler.Name, "steps", total, "seed", j.noise.Seed(),
		"cfg", j.guider.CFG, "shape", lat.Samples.Shape)
	var mask []float32
	if lat.NoiseMask != nil {
		if mask, err = prepareMask(lat.NoiseMask, lat.Samples.Shape); err != nil {
			return nil, nil, err
		}
	}
	samples, err := j.guider.SampleMasked(ctx, j.sampler, noise, lat.Samples, mask, j.sigmas, opts)
	if err != nil {
		return nil, nil, err
	}
	o := lat
	o.Samples = samples
	out = &o
	denoised = out
	if last != nil {
		d := lat
		d.Samples = last
		denoised = &d
	}
	return out, denoised, nil
}

// fixChannels is fix_empty_latent_channels: an all-zero latent whose
// channel count differs from the model's becomes zeros with the model's
// channels.
func fixChannels(m node.Model, t *node.Tensor) *node.Tensor {
	want := m.LatentChannels()
	if len(t.Shape) != 4 || want <= 0 || t.Shape[1] == want {
		return t
	}
	for _, v := range t.Data {
		if v != 0 {
			return t
		}
	}
	return node.NewTensor(t.Shape[0], want, t.Shape[2], t.Shape[3])
}

// prepareMask resizes a noise mask ([h, w], [B, h, w] or [B, 1, h, w])
// bilinearly to the latent's h×w and expands it to the latent's shape,
// repeating samples to the batch size.
func prepareMask(m *node.Tensor, shape []int) ([]float32, error) {
	if len(shape) != 4 {
		return nil, fmt.Errorf("noise mask: latent shape %v is not 4-D", shape)
	}
	var n, h, w int
	switch len(m.Shape) {
	case 2:
		n, h, w = 1, m.Shape[0], m.Shape[1]
	case 3:
		n, h, w = m.Shape[0], m.Shape[1], m.Shape[2]
	case 4:
		n, h, w = m.Shape[0]*m.Shape[1], m.Shape[2], m.Shape[3]
	default:
		return nil, fmt.Errorf("noise mask: shape %v", m.Shape)
	}
	if n < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("noise mask: shape %v", m.Shape)
	}
	img := &node.Image{N: n, H: h, W: w, C: 1, Pix: m.Data}
	r, err := resample.Upscale(img, shape[3], shape[2], "bilinear", "disabled")
	if err != nil {
		return nil, fmt.Errorf("noise mask: %w", err)
	}
	b, c, lh, lw := shape[0], shape[1], shape[2], shape[3]
	plane := lh * lw
	out := make([]float32, b*c*plane)
	for i := 0; i < b; i++ {
		src := r.Pix[(i%n)*plane : (i%n+1)*plane]
		for ch := 0; ch < c; ch++ {
			copy(out[(i*c+ch)*plane:], src)
		}
	}
	return out, nil
}

// kSamplerNode is KSampler.
type kSamplerNode struct{}

func (kSamplerNode) Spec() node.Spec {
	return node.Spec{
		Name:          "KSampler",
		SearchAliases: []string{"sampler", "sample", "generate", "denoise", "diffuse", "txt2img", "img2img"},
		DisplayName:   "KSampler",
		Category:      "model/sampling",
		Module:        "nodes",
		Description:   "Uses the provided model, positive and negative conditioning to denoise the latent image.",
		Inputs: []node.Input{
			{Name: "model", Type: node.TypeModel, Tooltip: "The model used for denoising the input latent."},
			seedInput("seed"),
			stepsInput(),
			cfgInput(),
			samplerInput(),
			schedulerInput(),
			{Name: "positive", Type: node.TypeConditioning, Tooltip: "The conditioning describing the attributes you want to include in the image."},
			{Name: "negative", Type: node.TypeConditioning, Tooltip: "The conditioning describing the attributes you want to exclude from the image."},
			{Name: "latent_image", Type: node.TypeLatent, Tooltip: "The latent image to denoise."},
			denoiseInput(),
		},
		Outputs: []node.Output{{Type: node.TypeLatent, Tooltip: "The denoised latent."}},
	}
}

func (kSamplerNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	a := readCommon(r, "seed")
	denoise := r.Float("denoise")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	sigmas, err := sampling.KSamplerSigmas(a.model.SigmaTable(), a.scheduler, a.sampler.Name, a.steps, denoise)
	if err != nil {
		return node.Result{}, err
	}
	out, _, err := job{noise: sampling.RandomNoise{NoiseSeed: a.seed}, guider: a.guider, sampler: a.sampler,
		sigmas: sigmas, latent: a.latent}.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out}}, nil
}

// kSamplerAdvancedNode is KSamplerAdvanced.
type kSamplerAdvancedNode struct{}

func (kSamplerAdvancedNode) Spec() node.Spec {
	return node.Spec{
		Name:        "KSamplerAdvanced",
		DisplayName: "KSampler (Advanced)",
		Category:    "model/sampling",
		Module:      "nodes",
		Inputs: []node.Input{
			{Name: "model", Type: node.TypeModel},
			{Name: "add_noise", Combo: []string{"enable", "disable"}, Advanced: true},
			noTip(seedInput("noise_seed")),
			noTip(stepsInput()),
			noTip(cfgInput()),
			noTip(samplerInput()),
			noTip(schedulerInput()),
			{Name: "positive", Type: node.TypeConditioning},
			{Name: "negative", Type: node.TypeConditioning},
			{Name: "latent_image", Type: node.TypeLatent},
			{Name: "start_at_step", Type: node.TypeInt, Default: int64(0), Min: node.F(0), Max: node.F(10000), Advanced: true},
			{Name: "end_at_step", Type: node.TypeInt, Default: int64(10000), Min: node.F(0), Max: node.F(10000), Advanced: true},
			{Name: "return_with_leftover_noise", Combo: []string{"disable", "enable"}, Advanced: true},
		},
		Outputs: []node.Output{{Type: node.TypeLatent}},
	}
}

func (kSamplerAdvancedNode) Execute(ctx context.Context, env *node.Env, in map[string]any) (node.Result, error) {
	r := node.Inputs(in)
	a := readCommon(r, "noise_seed")
	addNoise := r.String("add_noise")
	leftover := r.String("return_with_leftover_noise")
	start := r.Int("start_at_step")
	end := r.Int("end_at_step")
	if err := r.Err(); err != nil {
		return node.Result{}, err
	}
	sigmas, err := sampling.KSamplerSigmas(a.model.SigmaTable(), a.scheduler, a.sampler.Name, a.steps, 1)
	if err != nil {
		return node.Result{}, err
	}
	sigmas, skip := sampling.StepRange(sigmas, clampInt(start), clampInt(end), leftover == "disable")
	if skip {
		o := *a.latent
		if o.Samples != nil {
			o.Samples = fixChannels(a.model, o.Samples)
		}
		return node.Result{Outputs: []any{&o}}, nil
	}
	var noise sampling.Noise = sampling.RandomNoise{NoiseSeed: a.seed}
	if addNoise == "disable" {
		// Zero noise, but the seed still drives per-step noise, as
		// common_ksampler passes seed=noise_seed either way.
		noise = seededEmptyNoise{seed: a.seed}
	}
	out, _, err := job{noise: noise, guider: a.guider, sampler: a.sampler,
		sigmas: sigmas, latent: a.latent}.run(ctx, env)
	if err != nil {
		return node.Result{}, err
	}
	return node.Result{Outputs: []any{out}}, nil
}

// seededEmptyNoise is zero initial noise that still carries a seed.
type seededEmptyNoise struct{ seed uint64 }

func (n seededEmptyNoise) Seed() uint64 { return n.seed }
func (n seededEmptyNoise) Generate(l node.Latent) (*node.Tensor, error) {
	return sampling.EmptyNoise{}.Generate(l)
}

func clampInt(v int64) int { return int(min(max(v, -1), math.MaxInt32)) }

// common holds the inputs KSampler and KSamplerAdvanced share.
type common struct {
	model     node.Model
	seed      uint64
	steps     int
	scheduler string
	sampler   *sampling.Sampler
	guider    *sampling.Guider
	latent    *node.Latent
}

// readCommon reads the inputs KSampler and KSamplerAdvanced share; the
// guider and sampler are nil when r has failed.
func readCommon(r *node.Reader, seedName string) common {
	var a common
	a.model = r.Model("model")
	a.seed = r.Uint(seedName)
	a.steps = int(r.IntIn("steps", 1, 10000))
	cfg := r.Float("cfg")
	name := r.String("sampler_name")
	a.scheduler = r.String("scheduler")
	pos := r.Conditioning("positive")
	neg := r.Conditioning("negative")
	a.latent = r.Latent("latent_image")
	if r.Err() != nil {
		return a
	}
	s, err := sampling.NewSampler(name)
	r.Fail(err)
	a.sampler = s
	a.guider = &sampling.Guider{Model: a.model, Positive: pos, Negative: neg, CFG: cfg}
	return a
}
