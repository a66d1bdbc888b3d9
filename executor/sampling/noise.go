package sampling

import (
	"fmt"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// TypeNoise, TypeSampler, TypeSigmas and TypeGuider are the link types of
// ComfyUI's custom-sampler family (comfy_extras/nodes_custom_sampler.py).
const (
	TypeNoise   = "NOISE"
	TypeSampler = "SAMPLER"
	TypeSigmas  = "SIGMAS"
	TypeGuider  = "GUIDER"
)

// PrepareNoise is ComfyUI's comfy/sample.py prepare_noise: the initial
// noise for a latent batch, drawn on the CPU after torch.manual_seed(seed).
//
// Without batch_index the whole batch is drawn at once, so sample i
// continues the stream of sample i−1. With batch_index, one [1, C, H, W]
// noise is drawn per index 0..max(index) in order and the listed ones are
// selected (duplicates repeat the same noise).
func PrepareNoise(latent node.Latent, seed uint64) (*node.Tensor, error) {
	if latent.Samples == nil || len(latent.Samples.Shape) < 1 {
		return nil, fmt.Errorf("prepare noise: latent has no samples")
	}
	shape := latent.Samples.Shape
	g := NewGenerator(seed)
	if latent.BatchIndex == nil {
		return &node.Tensor{Shape: append([]int(nil), shape...), Data: g.Randn(shape...)}, nil
	}
	if len(latent.BatchIndex) != shape[0] {
		return nil, fmt.Errorf("prepare noise: batch_index has %d entries for a batch of %d",
			len(latent.BatchIndex), shape[0])
	}
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	sampleShape := append([]int{1}, shape[1:]...)
	maxIdx := -1
	for _, i := range latent.BatchIndex {
		if i < 0 {
			return nil, fmt.Errorf("prepare noise: negative batch_index %d", i)
		}
		maxIdx = max(maxIdx, i)
	}
	wanted := map[int]bool{}
	for _, i := range latent.BatchIndex {
		wanted[i] = true
	}
	drawn := map[int][]float32{}
	for i := 0; i <= maxIdx; i++ {
		n := g.Randn(sampleShape...)
		if wanted[i] {
			drawn[i] = n
		}
	}
	out := node.NewTensor(shape...)
	for b, i := range latent.BatchIndex {
		copy(out.Data[b*per:(b+1)*per], drawn[i])
	}
	return out, nil
}

// Noise is ComfyUI's NOISE value: a seed and a noise generator for a latent.
type Noise interface {
	// Seed is the seed the sampler's own randomness derives from.
	Seed() uint64
	// Generate returns the initial noise for latent (same shape).
	Generate(latent node.Latent) (*node.Tensor, error)
}

// RandomNoise is Noise_RandomNoise: PrepareNoise with a seed.
type RandomNoise struct{ NoiseSeed uint64 }

// Seed implements Noise.
func (n RandomNoise) Seed() uint64 { return n.NoiseSeed }

// Generate implements Noise.
func (n RandomNoise) Generate(latent node.Latent) (*node.Tensor, error) {
	return PrepareNoise(latent, n.NoiseSeed)
}

// EmptyNoise is Noise_EmptyNoise (DisableNoise): zeros, seed 0.
type EmptyNoise struct{}

// Seed implements Noise.
func (EmptyNoise) Seed() uint64 { return 0 }

// Generate implements Noise.
func (EmptyNoise) Generate(latent node.Latent) (*node.Tensor, error) {
	if latent.Samples == nil {
		return nil, fmt.Errorf("generate noise: latent has no samples")
	}
	return node.NewTensor(latent.Samples.Shape...), nil
}

// IsMaxDenoise is KSAMPLER.max_denoise: σ0 is (within rel 1e−5) the
// model's σ_max or above it.
func IsMaxDenoise(sigma0, sigmaMax float64) bool {
	return isClose(sigma0, sigmaMax, 1e-5, 0) || sigma0 > sigmaMax
}

// NoiseScaling is ModelSamplingDiscrete (EPS) noise_scaling: latent +
// noise·sqrt(1+σ²) when maxDenoise, else latent + noise·σ. The result is a
// new tensor.
func NoiseScaling(sigma float64, noise, latent *node.Tensor, maxDenoise bool) *node.Tensor {
	scale := sigma
	if maxDenoise {
		scale = math.Sqrt(1 + float64(sigma*sigma))
	}
	out := noise.Clone()
	for i, v := range noise.Data {
		l := 0.0
		if latent != nil {
			l = float64(latent.Data[i])
		}
		out.Data[i] = float32(float64(float64(v)*scale) + l)
	}
	return out
}

// isClose is Python's math.isclose.
func isClose(a, b, rel, abs float64) bool {
	if a == b {
		return true
	}
	d := math.Abs(a - b)
	return d <= math.Max(rel*math.Max(math.Abs(a), math.Abs(b)), abs)
}

// Sigmas is ComfyUI's SIGMAS value: a schedule, high to low.
type Sigmas []float64
