package sampling

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// Randn returns torch.randn(shape) drawn from g, as float32, exactly as
// PyTorch's CPU kernel (aten/src/ATen/native/cpu/DistributionKernels.cpp
// normal_kernel → DistributionTemplates.h normal_fill):
//
//   - numel ≥ 16: numel uniforms (Float32), then a Box–Muller transform of
//     every block of 16 in place (FillNormal16); if numel % 16 ≠ 0 the last
//     16 positions are redrawn (16 fresh uniforms) and transformed again.
//   - numel < 16: the scalar at::normal_distribution<double> path, one value
//     per element, each Box–Muller pair giving cos then (cached) sin.
//
// The block path is the one PyTorch's x86-64 builds take on AVX2 CPUs
// (normal_fill_AVX2): θ = float(2π)·u2 in float32 and the Cephes float32
// log/sincos of avx_mathfun.h with fused multiply-adds (see cephes.go). It
// reproduces published torch.randn outputs bit for bit (randn_test.go).
// Builds without AVX2 (the generic normal_fill_16 on libm logf/cosf/sinf,
// e.g. some ARM wheels) can differ in the last bits of the block path.
func (g *Generator) Randn(shape ...int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float32, n)
	g.FillNormal(out)
	return out
}

// FillNormal fills data like torch.Tensor.normal_() on a contiguous float32
// tensor of len(data) elements.
func (g *Generator) FillNormal(data []float32) {
	n := len(data)
	if n < 16 {
		for i := range data {
			data[i] = float32(g.normalDouble())
		}
		return
	}
	for i := range data {
		data[i] = g.Float32()
	}
	for i := 0; i+16 <= n; i += 16 {
		normal16(data[i : i+16])
	}
	if n%16 != 0 {
		tail := data[n-16:]
		for i := range tail {
			tail[i] = g.Float32()
		}
		normal16(tail)
	}
}

// normalDouble is at::normal_distribution<double>(0, 1) on the CPU
// generator: Box–Muller on two 53-bit uniforms, r = sqrt(−2·log1p(−u2)),
// θ = 2π·u1; returns r·cos θ and caches r·sin θ for the next call.
func (g *Generator) normalDouble() float64 {
	if g.haveNormal {
		g.haveNormal = false
		return g.nextNormal
	}
	u1 := g.Float64()
	u2 := g.Float64()
	r := math.Sqrt(-2 * pmath.Log1p(-u2))
	theta := 2 * math.Pi * u1
	g.nextNormal = r * pmath.Sin(theta)
	g.haveNormal = true
	return r * pmath.Cos(theta)
}

// normal16 is normal_fill_16_AVX2 for one block: for j < 8, u1 = 1 − d[j],
// u2 = d[j+8], radius = sqrt(−2·log(u1)), θ = float(2π)·u2,
// d[j] = radius·cos θ, d[j+8] = radius·sin θ, in float32 throughout.
func normal16(d []float32) {
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j]
		u2 := d[j+8]
		radius := float32(math.Sqrt(float64(-2 * logf32(u1))))
		theta := float32(float32(2*math.Pi) * u2)
		s, c := sincosf32(theta)
		d[j] = float32(radius * c)
		d[j+8] = float32(radius * s)
	}
}
