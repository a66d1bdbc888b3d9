package cpu

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend/backendtest"
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
// (Q·Kᵀ then P·V, "gemm": the speed of light for pure-Go scalar code), and
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
			c0 := cpuTime()
			for b.Loop() {
				if err := be.Attention(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			report(b, c, cpuTime()-c0)
		})
		b.Run(c.Name+"/gemm", func(b *testing.B) {
			a := c.Args()
			vt := transpose(a.V, c.NK, c.DV) // the baseline's preferred layout, untimed
			s := make([]float32, c.NQ*c.NK)
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				gemmNT(c.NQ, c.NK, c.D, a.Q, a.K, s)   // S = Q·Kᵀ
				gemmNT(c.NQ, c.DV, c.NK, s, vt, a.Out) // O = S·V
			}
			report(b, c, cpuTime()-c0)
		})
		b.Run(c.Name+"/naive", func(b *testing.B) {
			a := c.Args()
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				backendtest.Reference(a)
			}
			report(b, c, cpuTime()-c0)
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

// gemmNT computes C[m×n] = A[m×k]·B[n×k]ᵀ in float32: C split into tiles of
// 16 rows × nb columns (nb such that ~16 KiB of B stays in L1 while the rows
// pass over it), the tiles split into GOMAXPROCS contiguous runs, and
// 4×2 register tiles (8 accumulators) inside, written like the attention
// kernel. It is the baseline only; nothing outside the benchmark uses it.
func gemmNT(m, n, k int, a, b, c []float32) {
	const rb = 16
	nb := clamp(4096/max(k, 1), 2, 512) &^ 1
	rows, cols := ceilDiv(m, rb), ceilDiv(n, nb)
	tiles := rows * cols
	workers := min(runtime.GOMAXPROCS(0), tiles)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for t := w * tiles / workers; t < (w+1)*tiles/workers; t++ {
				i0, j0 := (t/cols)*rb, (t%cols)*nb
				gemmBlock(a, b, c, k, n, i0, min(i0+rb, m), j0, min(j0+nb, n))
			}
		})
	}
	wg.Wait()
}

func gemmBlock(a, b, c []float32, k, n, i0, i1, j0, j1 int) {
	row := func(x []float32, i int) []float32 { return x[i*k : (i+1)*k] }
	i := i0
	for ; i+3 < i1; i += 4 {
		a0, a1, a2, a3 := row(a, i), row(a, i+1), row(a, i+2), row(a, i+3)
		j := j0
		for ; j+1 < j1; j += 2 {
			b0, b1 := row(b, j), row(b, j+1)
			b0, b1 = b0[:len(a0)], b1[:len(a0)]
			a1, a2, a3 := a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
			var c00, c01, c10, c11, c20, c21, c30, c31 float32
			for t, x := range a0 {
				k0, k1 := b0[t], b1[t]
				c00 += x * k0
				c01 += x * k1
				x = a1[t]
				c10 += x * k0
				c11 += x * k1
				x = a2[t]
				c20 += x * k0
				c21 += x * k1
				x = a3[t]
				c30 += x * k0
				c31 += x * k1
			}
			c[i*n+j], c[i*n+j+1] = c00, c01
			c[(i+1)*n+j], c[(i+1)*n+j+1] = c10, c11
			c[(i+2)*n+j], c[(i+2)*n+j+1] = c20, c21
			c[(i+3)*n+j], c[(i+3)*n+j+1] = c30, c31
		}
		for ; j < j1; j++ {
			c[i*n+j] = dot32(a0, row(b, j))
			c[(i+1)*n+j] = dot32(a1, row(b, j))
			c[(i+2)*n+j] = dot32(a2, row(b, j))
			c[(i+3)*n+j] = dot32(a3, row(b, j))
		}
	}
	for ; i < i1; i++ { // remaining rows: 1×4 tiles, so that 1–3 rows still reuse each load
		a0 := row(a, i)
		j := j0
		for ; j+3 < j1; j += 4 {
			b0, b1, b2, b3 := row(b, j), row(b, j+1), row(b, j+2), row(b, j+3)
			b0, b1, b2, b3 = b0[:len(a0)], b1[:len(a0)], b2[:len(a0)], b3[:len(a0)]
			var c0, c1, c2, c3 float32
			for t, x := range a0 {
				c0 += x * b0[t]
				c1 += x * b1[t]
				c2 += x * b2[t]
				c3 += x * b3[t]
			}
			c[i*n+j], c[i*n+j+1], c[i*n+j+2], c[i*n+j+3] = c0, c1, c2, c3
		}
		for ; j < j1; j++ {
			c[i*n+j] = dot32(a0, row(b, j))
		}
	}
}

func dot32(x, y []float32) (s float32) {
	y = y[:len(x)]
	for t, v := range x {
		s += v * y[t]
	}
	return s
}

// TestGEMMBaseline keeps the benchmark's baseline honest.
func TestGEMMBaseline(t *testing.T) {
	for _, c := range []struct {
		name    string
		m, n, k int
	}{
		{"square", 8, 8, 8},
		{"odd", 7, 5, 3},
		{"tall", 37, 2, 11},
		{"few_rows", 3, 9, 13},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := make([]float32, c.m*c.k)
			bm := make([]float32, c.n*c.k)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			for i := range bm {
				bm[i] = float32(i%5) - 2
			}
			got := make([]float32, c.m*c.n)
			gemmNT(c.m, c.n, c.k, a, bm, got)
			for i := range c.m {
				for j := range c.n {
					var want float32
					for t := range c.k {
						want += a[i*c.k+t] * bm[j*c.k+t]
					}
					if got[i*c.n+j] != want {
						t.Fatalf("C[%d,%d] = %v, want %v", i, j, got[i*c.n+j], want)
					}
				}
			}
		})
	}
}
