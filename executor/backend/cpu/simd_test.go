package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/internal/cputime"
)

// TestSIMDAvailable: on an amd64 CPU with AVX2 and FMA, and on every
// arm64 CPU (NEON), the vector kernels are found and New uses them, so the
// bit tests below test something.
func TestSIMDAvailable(t *testing.T) {
	t.Parallel()
	vector := runtime.GOARCH == "arm64" || runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	if !simdBuilt || !vector {
		t.Skipf("no vector kernels in this build (%s, purego?) or no AVX2+FMA: only the pure-Go path runs", runtime.GOARCH)
	}
	if len(allSIMD()) == 0 {
		t.Fatalf("%s CPU with vector instructions, but no SIMD kernels", runtime.GOARCH)
	}
	if New().simd == nil {
		t.Fatal("New did not pick the SIMD kernels")
	}
}

// simdCase is one input of TestSIMDMatchesPureGo.
type simdCase struct {
	name          string
	nq, nk, d, dv int
	variance      float32
	bias, knorm   bool
	// edit, when set, plants adversarial values in the inputs.
	edit func(rng *rand.Rand, a *backend.AttentionArgs)
}

// adversarial values: NaN, ±Inf, float32 denormals, huge and tiny values,
// negative zero.
var special = []float32{
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-39, -3e-40,
	math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 1e-30, float32(math.Copysign(0, -1)), 0,
}

func plant(rng *rand.Rand, xs []float32, n int, vals []float32) {
	for range n {
		if len(xs) == 0 {
			return
		}
		xs[rng.IntN(len(xs))] = vals[rng.IntN(len(vals))]
	}
}

// TestSIMDMatchesPureGo holds every vector kernel set this CPU runs to the
// bits of the pure-Go kernels, for many shapes (few queries and many) (tails of rows, keys and
// columns; D and DV from 1), random blockings, and adversarial inputs
// (NaN, Inf, denormals, overflowing logits, every weight under the cutoff
// but one). Outputs must be equal bit for bit, or both NaN.
func TestSIMDMatchesPureGo(t *testing.T) {
	t.Parallel()
	kernels := allSIMD()
	if len(kernels) == 0 {
		t.Skip("no SIMD kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(14, 2026))
	var cases []simdCase
	for _, s := range [][4]int{
		{16, 1, 1, 1}, {16, 4, 3, 4}, {17, 5, 7, 3}, {23, 7, 36, 4}, {31, 9, 100, 5},
		{40, 64, 36, 192}, {64, 301, 100, 4}, {100, 300, 36, 4}, {257, 70, 36, 48},
		{24, 3, 2, 1}, {16, 8, 1, 8}, {33, 13, 5, 9},
		// few queries (split by keys and columns: the axpy kernels)
		// the VAE decode's shape, smaller: 3×3×4 latent neighbourhoods, an
		// 8×8×3 pixel patch and the key as values, most weights 0
		{72, 150, 36, 228},
		{2, 48, 64, 67}, {4, 30, 20, 33}, {3, 17, 9, 100}, {5, 9, 16, 8}, {1, 7, 3, 12}, {15, 11, 7, 29},
	} {
		cases = append(cases, simdCase{name: fmt.Sprintf("%dx%dx%dx%d", s[0], s[1], s[2], s[3]),
			nq: s[0], nk: s[1], d: s[2], dv: s[3], variance: 0.5, bias: s[0]%2 == 0, knorm: s[1]%3 == 0})
	}
	for n := range 40 {
		cases = append(cases, simdCase{name: fmt.Sprintf("random%d", n),
			nq: 1 + rng.IntN(65), nk: 1 + rng.IntN(60), d: 1 + rng.IntN(40), dv: 1 + rng.IntN(12),
			variance: float32(0.01 + 3*rng.Float64()), bias: rng.IntN(2) == 0, knorm: rng.IntN(2) == 0})
	}
	adv := []struct {
		name string
		edit func(rng *rand.Rand, a *backend.AttentionArgs)
	}{
		{"special_q", func(rng *rand.Rand, a *backend.AttentionArgs) { plant(rng, a.Q, 5, special) }},
		{"special_k", func(rng *rand.Rand, a *backend.AttentionArgs) { plant(rng, a.K, 5, special) }},
		{"special_v", func(rng *rand.Rand, a *backend.AttentionArgs) { plant(rng, a.V, 5, special) }},
		{"special_bias", func(rng *rand.Rand, a *backend.AttentionArgs) {
			if a.Bias != nil {
				plant(rng, a.Bias, 3, special)
			}
		}},
		{"denormals", func(rng *rand.Rand, a *backend.AttentionArgs) {
			for _, xs := range [][]float32{a.Q, a.K, a.V} {
				for i := range xs {
					xs[i] = float32(rng.IntN(64)-32) * math.SmallestNonzeroFloat32
				}
			}
		}},
		{"far_keys", func(rng *rand.Rand, a *backend.AttentionArgs) {
			// Logits hundreds below the maximum: weights under the cutoff.
			for i := range a.K {
				a.K[i] *= 40
			}
		}},
		{"far_keys_special_v", func(rng *rand.Rand, a *backend.AttentionArgs) {
			// Keys of weight 0 in every lane of a panel are skipped only
			// when V is finite: 0·Inf is NaN.
			for i := range a.K {
				a.K[i] *= 40
			}
			plant(rng, a.V, 5, special)
		}},
		{"equal_keys", func(rng *rand.Rand, a *backend.AttentionArgs) {
			for j := 1; j < a.NK; j++ {
				copy(a.K[j*a.D:(j+1)*a.D], a.K[:a.D])
			}
		}},
		{"huge", func(rng *rand.Rand, a *backend.AttentionArgs) {
			for i := range a.Q {
				a.Q[i] *= 1e18
			}
		}},
	}
	for i, e := range adv {
		for r := range 3 {
			cases = append(cases, simdCase{name: fmt.Sprintf("%s%d", e.name, r),
				nq: 1 + rng.IntN(45), nk: 1 + rng.IntN(40), d: 1 + rng.IntN(30), dv: 1 + rng.IntN(40),
				variance: float32(0.05 + rng.Float64()), bias: (i+r)%2 == 0, knorm: r == 1, edit: e.edit})
		}
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			args := func() *backend.AttentionArgs {
				r := rand.New(rand.NewPCG(uint64(i), 1))
				fill := func(n int) []float32 {
					xs := make([]float32, n)
					for k := range xs {
						xs[k] = float32(r.NormFloat64())
					}
					return xs
				}
				a := &backend.AttentionArgs{NQ: c.nq, NK: c.nk, D: c.d, DV: c.dv, Variance: c.variance,
					Q: fill(c.nq * c.d), K: fill(c.nk * c.d), V: fill(c.nk * c.dv), Out: make([]float32, c.nq*c.dv)}
				if c.bias {
					a.Bias = fill(c.nk)
				}
				if c.edit != nil {
					c.edit(r, a)
				}
				if c.knorm {
					a.KNorm = make([]float32, c.nk)
					for j := range c.nk {
						a.KNorm[j] = float32(sqNorm32(a.K[j*c.d : (j+1)*c.d]))
					}
				}
				return a
			}
			want := args()
			pure := New()
			pure.simd = nil
			if err := pure.Attention(context.Background(), want); err != nil {
				t.Fatal(err)
			}
			for _, k := range kernels {
				for p := range 3 {
					b := New()
					b.simd = k
					if p > 0 {
						rows, keys, pvKeys, cols, workers := 1+rng.IntN(20), 1+rng.IntN(20), 1+rng.IntN(20), 1+rng.IntN(40), 1+rng.IntN(3)
						// widen: the SIMD logits on K widened once, or on
						// float32 K (logits32), whatever the size.
						widen := p == 1
						b.tune = func(pl *plan) {
							pl.rows, pl.keys, pl.pvKeys, pl.cols, pl.workers, pl.widen = rows, keys, pvKeys, cols, workers, widen
						}
					}
					got := args()
					if err := b.Attention(context.Background(), got); err != nil {
						t.Fatal(err)
					}
					for o := range want.Out {
						w, g := want.Out[o], got.Out[o]
						if math.Float32bits(w) != math.Float32bits(g) && !(w != w && g != g) {
							t.Fatalf("%s plan %d: out[%d] = %v (%#x), pure Go %v (%#x)", k.name, p, o, g, math.Float32bits(g), w, math.Float32bits(w))
						}
					}
				}
			}
		})
	}
}

// TestSIMDSoftmaxMatchesSoftmaxRow holds each kernel set's softmax to
// softmaxRow's bits over many logits spread across the exponential's whole
// range (every reduction step k, the cutoff, values a few ulps apart), with
// NaN and ±Inf rows: a single product fused or reordered shows here. Reps 8
// and 9 make most keys dead (below the cutoff in all 8 lanes, which the
// AVX2 kernel skips), rep 9 with a row maximum of exactly 0 and, in some
// dead keys, one lane exactly at the cutoff, NaN, −Inf or alive.
func TestSIMDSoftmaxMatchesSoftmaxRow(t *testing.T) {
	t.Parallel()
	kernels := allSIMD()
	if len(kernels) == 0 {
		t.Skip("no SIMD kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 14))
	for _, nk := range []int{1, 2, 3, 31, 4096} {
		for rep := range 10 {
			l := make([]float64, nk*simdLanes)
			rows := make([][]float64, simdLanes)
			dead, odd := make([]bool, nk), make([]int, nk)
			for j := 1; j < nk; j++ {
				dead[j] = rep >= 8 && rng.IntN(5) != 0
				odd[j] = -1
				if rep == 9 && rng.IntN(4) == 0 {
					odd[j] = rng.IntN(simdLanes)
				}
			}
			for lane := range simdLanes {
				rows[lane] = make([]float64, nk)
				for j := range nk {
					x := -90*rng.Float64() + 2
					switch {
					case rep == 1 && rng.IntN(50) == 0:
						x = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}[rng.IntN(4)]
					case rep == 2:
						x = math.Nextafter(-79.99, 0) - float64(rng.IntN(3))*1e-14
					case rep == 3:
						x = float64(rng.IntN(200)) * -0.01083042469326756 / 2 // halfway points of the reduction
					case rep == 8 && j == 0:
						x = 2 * rng.Float64() // the row maximum is ≥ 0
					case rep == 9 && j == 0:
						x = 0
					case rep >= 8 && dead[j] && odd[j] == lane:
						x = []float64{-80, math.NaN(), math.Inf(-1), -3}[rng.IntN(4)]
					case rep >= 8 && dead[j]:
						x = math.Nextafter(-80, -100) - 60*rng.Float64()
					case rep >= 8:
						x = -80 * rng.Float64()
					}
					rows[lane][j] = x
					l[j*simdLanes+lane] = x
				}
			}
			for _, k := range kernels {
				got := append([]float64(nil), l...)
				sums := make([]float64, simdLanes)
				k.softmax(&got[0], nk, &sums[0])
				for lane := range simdLanes {
					want := make([]float64, nk)
					ws := softmaxRow(rows[lane], want)
					same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b) }
					if !same(ws, sums[lane]) {
						t.Fatalf("%s nk=%d rep %d lane %d: sum %v, softmaxRow %v", k.name, nk, rep, lane, sums[lane], ws)
					}
					for j := range nk {
						if g := got[j*simdLanes+lane]; !same(g, want[j]) {
							t.Fatalf("%s nk=%d rep %d lane %d: p[%d] = %v for logit %v, softmaxRow %v", k.name, nk, rep, lane, j, g, rows[lane][j], want[j])
						}
					}
				}
			}
		}
	}
}

// TestSIMDLogitsMatchLogit holds each kernel set's logits to dot1x1 and
// call.logit on full-precision terms (qn, kc and 1/v that are not simple
// values), with every key group and D from 1.
func TestSIMDLogitsMatchLogit(t *testing.T) {
	t.Parallel()
	kernels := allSIMD()
	if len(kernels) == 0 {
		t.Skip("no SIMD kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 14))
	for _, d := range []int{1, 2, 7, 36, 100} {
		const nk = 64
		q64 := make([]float64, simdLanes*d)
		qt := make([]float64, d*simdLanes)
		for r := range simdLanes {
			for t := range d {
				x := float64(float32(rng.NormFloat64() * 3))
				q64[r*d+t], qt[t*simdLanes+r] = x, x
			}
		}
		keys := make([]float32, nk*d)
		for i := range keys {
			keys[i] = float32(rng.NormFloat64() * 3)
		}
		qn := make([]float64, simdLanes)
		for r := range qn {
			qn[r] = rng.Float64() * 40
		}
		c := &call{kc: make([]float64, nk), invV: 1 / (0.1 + rng.Float64())}
		for j := range c.kc {
			c.kc[j] = rng.Float64()*40 - 3
		}
		for _, k := range kernels {
			l := make([]float64, nk*simdLanes)
			keys64 := make([]float64, len(keys))
			for i, x := range keys {
				keys64[i] = float64(x)
			}
			l32 := make([]float64, nk*simdLanes)
			k.logits(&qt[0], d, &keys64[0], nk/k.keys, &c.kc[0], &qn[0], c.invV, &l[0])
			k.logits32(&qt[0], d, &keys[0], nk/k.keys, &c.kc[0], &qn[0], c.invV, &l32[0])
			for r := range simdLanes {
				for j := range nk {
					want := c.logit(qn[r], dot1x1(q64[r*d:(r+1)*d], keys[j*d:(j+1)*d]), j)
					if g := l[j*simdLanes+r]; math.Float64bits(g) != math.Float64bits(want) {
						t.Fatalf("%s d=%d row %d key %d: %v, pure Go %v", k.name, d, r, j, g, want)
					}
					if g := l32[j*simdLanes+r]; math.Float64bits(g) != math.Float64bits(want) {
						t.Fatalf("%s logits32 d=%d row %d key %d: %v, pure Go %v", k.name, d, r, j, g, want)
					}
				}
			}
		}
	}
}

// BenchmarkSIMDKernels compares, on the benchmark shapes, every kernel set
// this CPU runs with the pure-Go kernels, in one run: what each
// instruction set pays.
//
//	go test -run '^$' -bench SIMDKernels -count 5 ./executor/backend/cpu/
func BenchmarkSIMDKernels(b *testing.B) {
	sets := append([]*simdKernels{nil}, allSIMD()...)
	for _, c := range benchShapes {
		for _, k := range sets {
			name := "purego"
			if k != nil {
				name = k.name
			}
			b.Run(c.Name+"/"+name, func(b *testing.B) {
				a := c.Args()
				be := New()
				be.simd = k
				ctx := context.Background()
				c0 := cputime.Process()
				for b.Loop() {
					if err := be.Attention(ctx, a); err != nil {
						b.Fatal(err)
					}
				}
				report(b, c, cputime.Process()-c0)
			})
		}
	}
}

// TestSIMDNormsMatchSqNorm holds each kernel set's key norms to sqNorm32's
// bits on values spread over 40 binades, where summing the squares in any
// other order than t = 0…n−1 changes the rounding.
func TestSIMDNormsMatchSqNorm(t *testing.T) {
	t.Parallel()
	var kernels []*simdKernels
	for _, k := range allSIMD() {
		if k.norms != nil {
			kernels = append(kernels, k)
		}
	}
	if len(kernels) == 0 {
		t.Skip("no SIMD norms kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 14))
	for _, n := range []int{4, 8, 36, 100} {
		for rep := range 200 {
			const ldk = 103 // rows longer than n: the stride is honoured
			keys := make([]float32, 8*ldk)
			for i := range keys {
				keys[i] = float32(math.Ldexp(1+rng.Float64(), -rng.IntN(40)))
			}
			for _, k := range kernels {
				var acc [8]float64
				k.norms(&keys[0], ldk, n, &acc)
				for j := range 8 {
					if want := sqNorm32(keys[j*ldk : j*ldk+n]); math.Float64bits(acc[j]) != math.Float64bits(want) {
						t.Fatalf("%s n=%d rep %d key %d: %v, sqNorm32 %v", k.name, n, rep, j, acc[j], want)
					}
				}
			}
		}
	}
}
