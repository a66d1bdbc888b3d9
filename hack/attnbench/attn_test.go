package attnbench

import (
	"context"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/regen-dev/regen/executor/backend/backendtest"
	"github.com/regen-dev/regen/executor/backend/cpu"
)

// shapes are executor/backend/cpu's benchmark shapes (bench_test.go) and
// a square one.
var shapes = []backendtest.Case{
	{Name: "gmm32", NQ: 2, NK: 200, D: 4096, DV: 4096, Variance: 2, Bias: backendtest.BiasRandom, KNorm: true},
	{Name: "gmm64", NQ: 2, NK: 200, D: 16384, DV: 16384, Variance: 8, Bias: backendtest.BiasRandom, KNorm: true},
	{Name: "els_p3", NQ: 1024, NK: 4096, D: 36, DV: 4, Variance: 0.5, Data: backendtest.Clustered},
	{Name: "els_p5", NQ: 1024, NK: 2048, D: 100, DV: 4, Variance: 1, Data: backendtest.Clustered},
	{Name: "els_tile", NQ: 16, NK: 3072, D: 100, DV: 4, Variance: 0.3, Data: backendtest.Clustered},
	{Name: "vae", NQ: 1024, NK: 4096, D: 36, DV: 192, Variance: 0.5},
	// Not a model shape: a square attention matrix with head size 64 and
	// dense weights (logits within ~40 of the maximum), the GEMM-bound case.
	{Name: "square", NQ: 1024, NK: 1024, D: 64, DV: 64, Variance: 1},
}

func flops(c backendtest.Case) float64 { return 2 * float64(c.NQ) * float64(c.NK) * float64(c.D+c.DV) }

func gonumNT(m, n, k int, a, b, c []float32) {
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: m, Cols: k, Stride: k, Data: a},
		blas32.General{Rows: n, Cols: k, Stride: k, Data: b},
		0, blas32.General{Rows: m, Cols: n, Stride: n, Data: c})
}

// BenchmarkAttention runs, per shape, regen's attention ("regen"), gonum's
// blas32.Gemm pair ("gonum") and, when built with -tags openblas,
// OpenBLAS's ("openblas"), reporting GFLOP/s (wall) and GFLOP/cpu-s (per
// busy core; steadier on a shared machine).
func BenchmarkAttention(b *testing.B) {
	impls := []struct {
		name string
		mm   sgemm
	}{{"gonum", gonumNT}}
	if openblasNT != nil {
		impls = append(impls, struct {
			name string
			mm   sgemm
		}{"openblas", openblasNT})
	}
	for _, c := range shapes {
		b.Run(c.Name+"/regen", func(b *testing.B) {
			a := c.Args()
			be := cpu.New()
			ctx := context.Background()
			c0 := cpuTime()
			for b.Loop() {
				if err := be.Attention(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			report(b, c, cpuTime()-c0)
		})
		for _, im := range impls {
			b.Run(c.Name+"/"+im.name, func(b *testing.B) {
				a := c.Args()
				vt := make([]float32, c.NK*c.DV) // Vᵀ, the NT layout, untimed
				for j := range c.NK {
					for col := range c.DV {
						vt[col*c.NK+j] = a.V[j*c.DV+col]
					}
				}
				s := make([]float32, c.NQ*c.NK)
				c0 := cpuTime()
				for b.Loop() {
					im.mm(c.NQ, c.NK, c.D, a.Q, a.K, s)
					im.mm(c.NQ, c.DV, c.NK, s, vt, a.Out)
				}
				report(b, c, cpuTime()-c0)
			})
		}
	}
}

func report(b *testing.B, c backendtest.Case, cpu time.Duration) {
	b.ReportMetric(flops(c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flops(c)*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
