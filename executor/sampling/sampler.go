package sampling

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// Denoiser is the guided model prediction D(x, σ) a sampler steps with
// (ComfyUI's CFG-wrapped model: see Guider.Denoiser).
type Denoiser func(ctx context.Context, x *node.Tensor, sigma float64) (*node.Tensor, error)

// Options are the per-run inputs of a sampler besides the model and sigmas.
type Options struct {
	// Seed is extra_args["seed"]: the noise seed of the run, from which
	// per-step noise (ancestral samplers: seed+1) and the Brownian tree
	// (SDE samplers: seed) are derived.
	Seed uint64
	// Progress, when set, is called after every step with (step+1,
	// len(sigmas)−1). A non-nil error stops sampling and is returned.
	Progress func(value, max int) error
	// Callback, when set, is called after every step with the step index,
	// the current x and the step's denoised prediction.
	Callback func(step int, x, denoised *node.Tensor)

	// table is the model's sigma table (for samplers that use
	// percent_to_sigma); set by Guider.Sample, DefaultTable otherwise.
	table []float64

	// uncond returns the unconditional prediction of the latest Denoiser
	// call (ComfyUI's post_cfg_function "uncond_denoised"), for the CFG++
	// samplers. Set by Guider.Sample.
	uncond func() *node.Tensor
}

// step reports a finished step to the callback and progress hook.
func (o *Options) step(i, total int, x, denoised *node.Tensor) error {
	if o == nil {
		return nil
	}
	if o.Callback != nil {
		o.Callback(i, x, denoised)
	}
	if o.Progress != nil {
		if err := o.Progress(i+1, total); err != nil {
			return err
		}
	}
	return nil
}

// sampleSteps is the step loop of the one-evaluation-per-step samplers: for
// each step σ_i → σ_{i+1} it evaluates den = D(x, σ_i), lets update
// compute the next x (update may call d again for its sub-steps), and
// reports the step.
func sampleSteps(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options,
	update func(i int, x, den *node.Tensor) (*node.Tensor, error)) (*node.Tensor, error) {
	n := len(sigmas) - 1
	for i := 0; i < n; i++ {
		den, err := d(ctx, x, sigmas[i])
		if err != nil {
			return nil, err
		}
		if x, err = update(i, x, den); err != nil {
			return nil, err
		}
		if err := o.step(i, n, x, den); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// samplerFunc runs one sampler over sigmas from x (already noised).
type samplerFunc func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error)

type samplerEntry struct {
	name  string
	fn    samplerFunc
	cfgpp bool // needs the unconditional prediction (CFG++)
}

// samplerTable lists the implemented samplers in ComfyUI's KSAMPLER_NAMES +
// SAMPLER_NAMES order.
func samplerTable() []samplerEntry {
	return []samplerEntry{
		{"euler", sampleEuler, false},
		{"euler_cfg_pp", sampleEulerAncestralCFGpp(0), true},
		{"euler_ancestral", sampleEulerAncestral, false},
		{"euler_ancestral_cfg_pp", sampleEulerAncestralCFGpp(1), true},
		{"heun", sampleHeun, false},
		{"heunpp2", sampleHeunpp2, false},
		{"exp_heun_2_x0", sampleSEEDS2(0, 1, true), false},
		{"exp_heun_2_x0_sde", sampleSEEDS2(1, 1, true), false},
		{"dpm_2", sampleDPM2, false},
		{"dpm_2_ancestral", sampleDPM2Ancestral, false},
		{"lms", sampleLMS, false},
		{"dpm_fast", sampleDPMFast, false},
		{"dpm_adaptive", sampleDPMAdaptive, false},
		{"dpmpp_2s_ancestral", sampleDPMpp2SAncestral, false},
		{"dpmpp_2s_ancestral_cfg_pp", sampleDPMpp2SAncestralCFGpp, true},
		{"dpmpp_sde", sampleDPMppSDE, false},
		{"dpmpp_sde_gpu", sampleDPMppSDE, false},
		{"dpmpp_2m", sampleDPMpp2M, false},
		{"dpmpp_2m_cfg_pp", sampleDPMpp2MCFGpp, true},
		{"dpmpp_2m_sde", sampleDPMpp2MSDE(false), false},
		{"dpmpp_2m_sde_gpu", sampleDPMpp2MSDE(false), false},
		{"dpmpp_2m_sde_heun", sampleDPMpp2MSDE(true), false},
		{"dpmpp_2m_sde_heun_gpu", sampleDPMpp2MSDE(true), false},
		{"dpmpp_3m_sde", sampleDPMpp3MSDE, false},
		{"dpmpp_3m_sde_gpu", sampleDPMpp3MSDE, false},
		{"ddpm", sampleDDPM, false},
		{"lcm", sampleLCM, false},
		{"ipndm", sampleIPNDM, false},
		{"ipndm_v", sampleIPNDMV, false},
		{"deis", sampleDEIS, false},
		{"res_multistep", sampleResMultistep(0, false), false},
		{"res_multistep_cfg_pp", sampleResMultistep(0, true), true},
		{"res_multistep_ancestral", sampleResMultistep(1, false), false},
		{"res_multistep_ancestral_cfg_pp", sampleResMultistep(1, true), true},
		{"gradient_estimation", sampleGradientEstimation(false), false},
		{"gradient_estimation_cfg_pp", sampleGradientEstimation(true), true},
		{"er_sde", sampleERSDE, false},
		{"seeds_2", sampleSEEDS2(1, 0.5, false), false},
		{"seeds_3", sampleSEEDS3, false},
		{"sa_solver", sampleSASolver(false), false},
		{"sa_solver_pece", sampleSASolver(true), false},
		{"ddim", sampleEuler, false},
		{"uni_pc", sampleUniPC(false), false},
		{"uni_pc_bh2", sampleUniPC(true), false},
	}
}

// SamplerNames returns the implemented samplers in ComfyUI's order. The
// *_gpu variants are the same samplers: regen's Brownian tree always lives
// on the CPU.
func SamplerNames() []string {
	t := samplerTable()
	out := make([]string, len(t))
	for i, s := range t {
		out[i] = s.name
	}
	return out
}

// Sampler is ComfyUI's SAMPLER value (a KSAMPLER): a named sampling method.
type Sampler struct {
	Name  string
	fn    samplerFunc
	cfgpp bool
}

// NewSampler returns the sampler called name.
func NewSampler(name string) (*Sampler, error) {
	for _, s := range samplerTable() {
		if s.name == name {
			return &Sampler{Name: name, fn: s.fn, cfgpp: s.cfgpp}, nil
		}
	}
	return nil, fmt.Errorf("sampler: unknown sampler %q", name)
}

// NeedsUncond reports whether the sampler is a CFG++ one, which steps with
// the unconditional prediction and so must run through Guider.Sample.
func (s *Sampler) NeedsUncond() bool { return s.cfgpp }

// Sample runs the sampler from x, which must already carry the noise for
// sigmas[0] (see NoiseScaling). It returns x after the last sigma; with
// fewer than two sigmas it returns a copy of x. CFG++ samplers need the
// unconditional prediction and must be run through Guider.Sample.
func (s *Sampler) Sample(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	if err := validateSigmas(sigmas); err != nil {
		return nil, fmt.Errorf("sample %s: %w", s.Name, err)
	}
	if o == nil {
		o = &Options{}
	}
	if s.cfgpp && o.uncond == nil {
		return nil, fmt.Errorf("sample %s: a CFG++ sampler needs the unconditional prediction; run it through a Guider", s.Name)
	}
	if len(sigmas) < 2 {
		return x.Clone(), nil
	}
	out, err := s.fn(ctx, d, x.Clone(), sigmas, o)
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", s.Name, err)
	}
	return out, nil
}

// term is one coefficient·tensor of a linear combination.
type term struct {
	c float64
	t *node.Tensor
}

// comb returns Σ c_k·t_k element-wise, accumulated in float64 in argument
// order and rounded once to float32.
func comb(terms ...term) *node.Tensor {
	out := node.NewTensor(terms[0].t.Shape...)
	for i := range out.Data {
		var s float64
		for _, tm := range terms {
			s += float64(tm.c * float64(tm.t.Data[i]))
		}
		out.Data[i] = float32(s)
	}
	return out
}

// toD is k-diffusion's to_d: (x − D)/σ.
func toD(x, denoised *node.Tensor, sigma float64) *node.Tensor {
	return comb(term{1 / sigma, x}, term{-1 / sigma, denoised})
}

// ancestralStep is get_ancestral_step: the split of a step σ → σ_next into
// a deterministic step to σ_down and fresh noise of size σ_up.
func ancestralStep(sigma, sigmaNext, eta float64) (down, up float64) {
	if eta == 0 {
		return sigmaNext, 0
	}
	up = math.Min(sigmaNext, eta*math.Sqrt(sigmaNext*sigmaNext*(float64(sigma*sigma)-float64(sigmaNext*sigmaNext))/(sigma*sigma)))
	down = math.Sqrt(float64(sigmaNext*sigmaNext) - float64(up*up))
	return down, up
}

// noiseSampler returns standard normal noise for the step σ → σ_next.
type noiseSampler func(sigma, sigmaNext float64) *node.Tensor

// defaultNoiseSampler is default_noise_sampler on the CPU: a generator
// seeded with seed+1 (ComfyUI PR #11528, which stopped the per-step stream
// from repeating the initial noise), drawing torch.randn(x.shape) per call.
// seed+1 wraps at 2^64; only its low 32 bits matter anyway.
func defaultNoiseSampler(x *node.Tensor, seed uint64) noiseSampler {
	g := NewGenerator(seed + 1)
	shape := append([]int(nil), x.Shape...)
	return func(float64, float64) *node.Tensor {
		return &node.Tensor{Shape: append([]int(nil), shape...), Data: g.Randn(shape...)}
	}
}

// positiveRange returns the smallest positive sigma and the largest sigma.
func positiveRange(sigmas []float64) (lo, hi float64) {
	lo = math.Inf(1)
	for _, s := range sigmas {
		if s > 0 {
			lo = math.Min(lo, s)
		}
		hi = math.Max(hi, s)
	}
	return lo, hi
}

// brownianNoiseSampler is BrownianTreeNoiseSampler over [σ_min>0, σ_max]
// of sigmas with entropy seed: noise = (W(σ_next) − W(σ))/sqrt(|σ_next − σ|).
func brownianNoiseSampler(x *node.Tensor, sigmas []float64, seed uint64) noiseSampler {
	lo, hi := positiveRange(sigmas)
	tree := NewBrownianTree(lo, hi, x.Numel(), seed)
	shape := append([]int(nil), x.Shape...)
	return func(s, t float64) *node.Tensor {
		w := tree.Increment(s, t)
		scale := 1 / math.Sqrt(math.Abs(t-s))
		out := &node.Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, len(w))}
		for i, v := range w {
			out.Data[i] = float32(v * scale)
		}
		return out
	}
}
