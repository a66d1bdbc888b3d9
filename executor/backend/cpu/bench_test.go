package cpu

import (
	"context"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend/backendtest"
	"github.com/regen-dev/regen/executor/backend/cpu/gemmbench"
	"github.com/regen-dev/regen/internal/cputime"
)

// The shapes the model calls Attention with (executor-model.md): gmm at a
// 32×32 and a 64×64 latent (a cond/uncond pair over 200 exemplars), els with
// 3×3 and 5×5 patches at a 32×32 latent over all positions and as the
// model's 4×4 tiles, and the VAE decode of a 256×256 image over a
// 4096-entry codebook.
var benchShapes = []backendtest.Case{
	{Name: "gmm32", NQ: 2, NK: 200, D: 4096, DV: 4096, Variance: 2, Bias: backendtest.BiasRandom, KNorm: true},
	{Name: "gmm64", NQ: 2, NK: 200, D: 16384, DV: 16384, Variance: 8, Bias: backendtest.BiasRandom, KNorm: true},
	{Name: "els_p3", NQ: 1024, NK: 4096, D: 36, DV: 4, Variance: 0.5, Data: backendtest.Clustered},
	{Name: "els_p5", NQ: 1024, NK: 2048, D: 100, DV: 4, Variance: 1, Data: backendtest.Clustered},
	// One call of the model's tiled els as fixtures/gen builds it: a 4×4
	// query tile over 48 exemplars × the 8×8 window positions, 5×5 patches.
	{Name: "els_tile", NQ: 16, NK: 3072, D: 100, DV: 4, Variance: 0.3, Data: backendtest.Clustered},
	{Name: "vae", NQ: 1024, NK: 4096, D: 36, DV: 192, Variance: 0.5},
}

// flops is the FLOP count of one attention call by our convention:
// 2·NQ·NK·D for the distances (the Q·Kᵀ products) plus 2·NQ·NK·DV for the
// weighted sum (P·V). Norms, bias, exp and normalisation are not counted,
// so the attention pays for them out of the same budget as the GEMM.
func flops(c backendtest.Case) float64 {
	return 2 * float64(c.NQ) * float64(c.NK) * float64(c.D+c.DV)
}

// BenchmarkAttention measures, per shape, the blocked kernel ("fast"), a
// plain blocked float32 GEMM pair of the very same shapes and FLOP count
// (Q·Kᵀ then P·V, "gemm": gemmbench.NT, the speed of light for pure-Go
// scalar code), and
// the naive float64 reference ("naive"), all in GFLOP/s:
//
//	go test -run '^$' -bench . -benchtime 3x ./executor/backend/cpu/
func BenchmarkAttention(b *testing.B) {
	for _, c := range benchShapes {
		b.Run(c.Name+"/fast", func(b *testing.B) {
			a := c.Args()
			be := New()
			ctx := context.Background()
			b.ResetTimer()
			c0 := cputime.Process()
			for b.Loop() {
				if err := be.Attention(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			report(b, c, cputime.Process()-c0)
		})
		b.Run(c.Name+"/gemm", func(b *testing.B) {
			a := c.Args()
			vt := transpose(a.V, c.NK, c.DV) // the baseline's preferred layout, untimed
			s := make([]float32, c.NQ*c.NK)
			b.ResetTimer()
			c0 := cputime.Process()
			for b.Loop() {
				gemmbench.NT(c.NQ, c.NK, c.D, a.Q, a.K, s)   // S = Q·Kᵀ
				gemmbench.NT(c.NQ, c.DV, c.NK, s, vt, a.Out) // O = S·V
			}
			report(b, c, cputime.Process()-c0)
		})
		b.Run(c.Name+"/naive", func(b *testing.B) {
			a := c.Args()
			b.ResetTimer()
			c0 := cputime.Process()
			for b.Loop() {
				backendtest.Reference(a)
			}
			report(b, c, cputime.Process()-c0)
		})
	}
}

// report adds GFLOP/s (wall clock, all goroutines together) and, where the
// process CPU time is known, GFLOP/cpu-s: flops per second of CPU time
// spent, i.e. per busy core, which stays meaningful on a loaded machine
// where wall-clock rates swing with the other processes.
func report(b *testing.B, c backendtest.Case, cpu time.Duration) {
	b.ReportMetric(flops(c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops(c)*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

func transpose(x []float32, rows, cols int) []float32 {
	t := make([]float32, len(x))
	for i := range rows {
		for j := range cols {
			t[j*rows+i] = x[i*cols+j]
		}
	}
	return t
}
