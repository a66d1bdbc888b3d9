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
	return func(ctx context.Context, x *node.Tensor, sigma float64) (*node.Tensor, error) {
		c, err := g.average(ctx, x, sigma, g.Positive)
		if err != nil {
			return nil, fmt.Errorf("predict positive: %w", err)
		}
		if g.SkipsUncond() {
			return c, nil
		}
		u, err := g.average(ctx, x, sigma, g.Negative)
		if err != nil {
			return nil, fmt.Errorf("predict negative: %w", err)
		}
		return comb(term{1 - g.CFG, u}, term{g.CFG, c}), nil
	}
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
	if len(sigmas) == 0 {
		return latent.Clone(), nil
	}
	if noise.Numel() != latent.Numel() {
		return nil, fmt.Errorf("sample: noise has %d values, latent %d", noise.Numel(), latent.Numel())
	}
	table := g.Model.SigmaTable()
	if len(table) == 0 {
		return nil, fmt.Errorf("sample: model has an empty sigma table")
	}
	maxDenoise := IsMaxDenoise(sigmas[0], table[len(table)-1])
	x := NoiseScaling(sigmas[0], noise, latent, maxDenoise)
	return sampler.Sample(ctx, g.Denoiser(), x, sigmas, o)
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
