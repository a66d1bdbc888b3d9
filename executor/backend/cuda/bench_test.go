//go:build cuda

package cuda

import (
	"context"
	"testing"

	"github.com/regen-dev/regen/executor/backend/backendtest"
)

// h200FP32Peak is the H200's non-tensor FP32 peak, TFLOP/s.
const h200FP32Peak = 67.0

func benchCases() []backendtest.Case {
	return []backendtest.Case{
		// els at 64×64 latents, 3×3 patches, 16 exemplars' positions
		{Name: "els_4096x65536_d36", NQ: 4096, NK: 65536, D: 36, DV: 4, Variance: 0.1, Data: backendtest.Clustered, Bias: backendtest.BiasRandom, Seed: 301},
		// els with 7×7 patches (high σ)
		{Name: "els_4096x16384_d196", NQ: 4096, NK: 16384, D: 196, DV: 4, Variance: 2, Seed: 302},
		// one els tile call as the model makes them (4×4 queries)
		{Name: "els_tile_16x9216_d36", NQ: 16, NK: 9216, D: 36, DV: 4, Variance: 0.1, Data: backendtest.Clustered, Seed: 303},
		// VAE decode of a 512² image
		{Name: "vae_4096x4096_d36_dv192", NQ: 4096, NK: 4096, D: 36, DV: 192, Variance: 0.5, Seed: 304},
	}
}

// BenchmarkKernel times the kernels alone (arguments already on the
// device). Metrics: TFLOP/s counting 2·NQ·NK·(D+DV) (the two products of
// attention, as for a GEMM pair), and that as a percentage of the H200's
// FP32 peak. The fp32 kernel issues 3 flops per distance term (sub + fma),
// so its hardware rate is up to 1.5× the reported one.
func BenchmarkKernel(b *testing.B) {
	for _, prec := range []string{"fp32", "tf32"} {
		for _, c := range benchCases() {
			b.Run(prec+"/"+c.Name, func(b *testing.B) {
				be := newTest(b, prec)
				a := c.Args()
				be.mu.Lock()
				defer be.mu.Unlock()
				if err := be.do(func() error { return be.uploadArgs(a) }); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := be.do(func() error { return be.compute(context.Background(), a) }); err != nil {
						b.Fatal(err)
					}
				}
				report(b, c)
			})
		}
	}
}

// BenchmarkAttention times whole calls, copies to and from the device
// included.
func BenchmarkAttention(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.Name, func(b *testing.B) {
			be := newTest(b, "fp32")
			a := c.Args()
			for b.Loop() {
				if err := be.Attention(context.Background(), a); err != nil {
					b.Fatal(err)
				}
			}
			report(b, c)
		})
	}
}

func report(b *testing.B, c backendtest.Case) {
	flops := 2 * float64(c.NQ) * float64(c.NK) * float64(c.D+c.DV)
	sec := b.Elapsed().Seconds() / float64(b.N)
	tf := flops / sec / 1e12
	b.ReportMetric(tf, "TFLOP/s")
	b.ReportMetric(100*tf/h200FP32Peak, "%H200-fp32-peak")
}
