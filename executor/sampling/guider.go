package sampling

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// Guider is ComfyUI's GUIDER (comfy/samplers.py CFGGuider): a model with
// its conditionings and CFG scale, turned into a Denoiser. BasicGuider is a
// Guider with no Negative and CFG 1.
type Guider struct {
	Model    node.Model
	Positive node.Conditioning
	Negative node.Conditioning
	CFG      float64
}

// SkipsUncond reports whether the unconditional pass is skipped: cfg equal
// to 1 under Python's math.isclose (relative tolerance 1e−9), as
// sampling_function's cfg1 optimisation.
func (g *Guider) SkipsUncond() bool { return isClose(g.CFG, 1, 1e-9, 0) }

// Denoiser returns D(x, σ) = u + cfg·(c − u), where c and u average the
// model's predictions over the positive and negative conditioning entries
// (calc_cond_batch without areas or masks: every entry has weight 1). An
// empty conditioning predicts zeros, as ComfyUI's 0/1e−37 does.
func (g *Guider) Denoiser() Denoiser {
	d, _ := g.denoiser(false)
	return d
}

// denoiser returns the Denoiser and, when capture is set, a function
// returning the unconditional prediction of its latest call; capture also
// disables the cfg = 1 shortcut (disable_cfg1_optimization), as ComfyUI does
// for the CFG++ samplers.
func (g *Guider) denoiser(capture bool) (Denoiser, func() *node.Tensor) {
	var last *node.Tensor
	d := func(ctx context.Context, x *node.Tensor, sigma float64) (*node.Tensor, error) {
		c, err := g.average(ctx, x, sigma, g.Positive)
		if err != nil {
			return nil, fmt.Errorf("predict positive: %w", err)
		}
		if !capture && g.SkipsUncond() {
			return c, nil
		}
		u, err := g.average(ctx, x, sigma, g.Negative)
		if err != nil {
			return nil, fmt.Errorf("predict negative: %w", err)
		}
		last = u
		return comb(term{1 - g.CFG, u}, term{g.CFG, c}), nil
	}
	return d, func() *node.Tensor { return last }
}

func (g *Guider) average(ctx context.Context, x *node.Tensor, sigma float64, conds node.Conditioning) (*node.Tensor, error) {
	if len(conds) == 0 {
		return node.NewTensor(x.Shape...), nil
	}
	if len(conds) == 1 {
		return g.predict(ctx, x, sigma, conds[0])
	}
	sum := make([]float64, x.Numel())
	for _, c := range conds {
		p, err := g.predict(ctx, x, sigma, c)
		if err != nil {
			return nil, err
		}
		for i, v := range p.Data {
			sum[i] += float64(v)
		}
	}
	out := node.NewTensor(x.Shape...)
	for i, v := range sum {
		out.Data[i] = float32(v / float64(len(conds)))
	}
	return out, nil
}

func (g *Guider) predict(ctx context.Context, x *node.Tensor, sigma float64, c node.Cond) (*node.Tensor, error) {
	p, err := g.Model.Predict(ctx, x, sigma, c)
	if err != nil {
		return nil, err
	}
	if p == nil || len(p.Data) != len(x.Data) {
		return nil, fmt.Errorf("model prediction has the wrong size")
	}
	return p, nil
}

// Sample is CFGGuider.sample followed by KSAMPLER.sample: with no sigmas
// the latent is returned unchanged; otherwise the noise is scaled for
// sigmas[0] (sqrt(1+σ0²) when σ0 is the model's σ_max, else σ0), added to
// the latent, and the sampler runs. noise and latent have the same shape.
func (g *Guider) Sample(ctx context.Context, sampler *Sampler, noise, latent *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	return g.SampleMasked(ctx, sampler, noise, latent, nil, sigmas, o)
}

// SampleMasked is Sample with a denoise mask (ComfyUI's KSamplerX0Inpaint):
// mask has one value per latent element, 1 where the latent is repainted
// and 0 where it is kept. Before every model call x becomes
// x·m + (latent + noise·σ)·(1−m), the prediction D·m + latent·(1−m), and
// the final samples are blended the same way. A nil mask is Sample. The
// ddim sampler takes its inpaint noise from a generator seeded with
// Options.Seed+1, as ComfyUI's inpaint_options "random".
func (g *Guider) SampleMasked(ctx context.Context, sampler *Sampler, noise, latent *node.Tensor, mask []float32, sigmas []float64, o *Options) (*node.Tensor, error) {
	if len(sigmas) == 0 {
		return latent.Clone(), nil
	}
	if noise.Numel() != latent.Numel() {
		return nil, fmt.Errorf("sample: noise has %d values, latent %d", noise.Numel(), latent.Numel())
	}
	if mask != nil && len(mask) != latent.Numel() {
		return nil, fmt.Errorf("sample: mask has %d values, latent %d", len(mask), latent.Numel())
	}
	table := g.Model.SigmaTable()
	if len(table) == 0 {
		return nil, fmt.Errorf("sample: model has an empty sigma table")
	}
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.table = table
	d, uncond := g.denoiser(sampler.NeedsUncond())
	if sampler.NeedsUncond() {
		opts.uncond = uncond
	}
	if mask != nil {
		inpaintNoise := noise
		if sampler.Name == "ddim" {
			// ddim is euler with inpaint_options random: its inpaint noise
			// comes from torch.manual_seed(seed+1) on the CPU.
			inpaintNoise = &node.Tensor{Shape: append([]int(nil), noise.Shape...),
				Data: NewGenerator(opts.Seed + 1).Randn(noise.Shape...)}
		}
		d = maskedDenoiser(d, mask, latent, inpaintNoise)
	}
	maxDenoise := IsMaxDenoise(sigmas[0], table[len(table)-1])
	x := NoiseScaling(sigmas[0], noise, latent, maxDenoise)
	out, err := sampler.Sample(ctx, d, x, sigmas, &opts)
	if err != nil {
		return nil, err
	}
	if mask != nil {
		blend(out, mask, latent)
	}
	return out, nil
}

// maskedDenoiser wraps d as KSamplerX0Inpaint.
func maskedDenoiser(d Denoiser, mask []float32, latent, noise *node.Tensor) Denoiser {
	return func(ctx context.Context, x *node.Tensor, sigma float64) (*node.Tensor, error) {
		in := node.NewTensor(x.Shape...)
		for i := range in.Data {
			m := float64(mask[i])
			in.Data[i] = float32(float64(float64(x.Data[i])*m) + float64((float64(latent.Data[i])+float64(float64(noise.Data[i])*sigma))*(1-m)))
		}
		out, err := d(ctx, in, sigma)
		if err != nil {
			return nil, err
		}
		out = out.Clone()
		blend(out, mask, latent)
		return out, nil
	}
}

// blend sets t = t·m + latent·(1−m) in place.
func blend(t *node.Tensor, mask []float32, latent *node.Tensor) {
	for i := range t.Data {
		m := float64(mask[i])
		t.Data[i] = float32(float64(float64(t.Data[i])*m) + float64(float64(latent.Data[i])*(1-m)))
	}
}

// finite reports whether every value of t is finite.
func finite(t *node.Tensor) bool {
	for _, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}
