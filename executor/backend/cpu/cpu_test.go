package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/backend/backendtest"
)

// The CPU backend is held to 1/10 of the suite's default fp32 tolerance.
func TestConformance(t *testing.T) {
	backendtest.Run(t, New(), backendtest.Options{Tol: backendtest.DefaultTol / 10})
}

// TestBlockingInvariance: the blocking (rows per task, keys per block,
// columns per task, …) and the split (by rows or by keys and columns) only
// change speed, never a bit.
func TestBlockingInvariance(t *testing.T) {
	plans := []struct {
		name string
		tune func(*plan)
	}{
		{"default", nil},
		{"by_rows_tiny_blocks", func(p *plan) { p.byKeys, p.rows, p.keys, p.pvKeys, p.normRun = false, 1, 2, 1, 1 }},
		{"by_rows_widened", func(p *plan) { p.byKeys, p.widen, p.transpose, p.rows = false, true, false, 5 }},
		{"by_rows_transposed", func(p *plan) { p.byKeys, p.widen, p.transpose, p.rows, p.pvKeys = false, true, true, 7, 5 }},
		{"by_rows_not_widened", func(p *plan) { p.byKeys, p.widen, p.rows = false, false, 6 }},
		{"by_rows_odd_blocks", func(p *plan) { p.byKeys, p.rows, p.keys, p.pvKeys, p.normRun = false, 7, 5, 3, 11 }},
		{"by_rows_one_block", func(p *plan) { p.byKeys, p.rows, p.keys, p.pvKeys, p.normRun = false, 1<<20, 1<<20, 1<<20, 1<<20 }},
		{"by_keys_tiny_blocks", func(p *plan) { p.byKeys, p.keys, p.cols = true, 1, 1 }},
		{"by_keys_odd_blocks", func(p *plan) { p.byKeys, p.keys, p.cols = true, 3, 5 }},
		{"one_worker", func(p *plan) { p.workers = 1 }},
		{"many_workers", func(p *plan) { p.workers = 7 }},
	}
	cases := []backendtest.Case{
		{Name: "few", NQ: 3, NK: 23, D: 70, DV: 41, Variance: 0.7, Bias: backendtest.BiasRandom, Seed: 1},
		{Name: "few_seven", NQ: 7, NK: 19, D: 30, DV: 23, Variance: 0.4, KNorm: true, Seed: 6},
		{Name: "many", NQ: 45, NK: 31, D: 13, DV: 6, Variance: 0.3, Data: backendtest.Clustered, Seed: 2},
		{Name: "many_knorm", NQ: 18, NK: 19, D: 9, DV: 5, Variance: 0.3, KNorm: true, Seed: 3},
		{Name: "one_query", NQ: 1, NK: 9, D: 33, DV: 10, Variance: 1, Seed: 4},
		{Name: "wide_values", NQ: 23, NK: 37, D: 9, DV: 35, Variance: 0.5, Bias: backendtest.BiasRandom, Seed: 5},
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var first []float32
			for _, p := range plans {
				b := New()
				b.tune = p.tune
				a := c.Args()
				if err := b.Attention(context.Background(), a); err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				if first == nil {
					first = a.Out
					continue
				}
				for i := range first {
					if math.Float32bits(a.Out[i]) != math.Float32bits(first[i]) {
						t.Fatalf("plan %s: out[%d] = %v, default plan gave %v", p.name, i, a.Out[i], first[i])
					}
				}
			}
		})
	}
}

// TestZeroBiasBitIdentical: a zero bias and a nil bias give the same bits.
func TestZeroBiasBitIdentical(t *testing.T) {
	for _, c := range []backendtest.Case{
		{Name: "few", NQ: 2, NK: 40, D: 64, DV: 64, Variance: 1, Seed: 5},
		{Name: "many", NQ: 40, NK: 50, D: 36, DV: 4, Variance: 0.2, Data: backendtest.Clustered, Seed: 6},
	} {
		t.Run(c.Name, func(t *testing.T) {
			a := c.Args()
			c.Bias = backendtest.BiasZero
			z := c.Args()
			b := New()
			for _, x := range []*backend.AttentionArgs{a, z} {
				if err := b.Attention(context.Background(), x); err != nil {
					t.Fatal(err)
				}
			}
			for i := range a.Out {
				if math.Float32bits(a.Out[i]) != math.Float32bits(z.Out[i]) {
					t.Fatalf("out[%d]: nil bias %v, zero bias %v", i, a.Out[i], z.Out[i])
				}
			}
		})
	}
}

// TestCancelBetweenBlocks: cancelling mid-call stops it within a block or
// two, long before the whole call would end.
func TestCancelBetweenBlocks(t *testing.T) {
	a := backendtest.Case{NQ: 4096, NK: 4096, D: 100, DV: 4, Variance: 1, Seed: 7}.Args()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err := New().Attention(ctx, a)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Attention = %v, want context.Canceled", err)
	}
	// The call is 3.5 GFLOP (≥ 0.5 s here); a block is at most a few ms
	// (tens under the race detector).
	limit := 300 * time.Millisecond
	if raceEnabled {
		limit *= 10
	}
	if took > limit {
		t.Errorf("cancellation noticed after %v", took)
	}
}

// countdownCtx reports cancellation from its n-th Err call on, and counts
// the calls: a deterministic way to cancel "between blocks".
type countdownCtx struct {
	context.Context
	mu    sync.Mutex
	n     int
	calls int
}

func (c *countdownCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestCancelChecksEveryBlock: each path asks ctx before every block and
// stops handing out blocks as soon as it says cancelled.
func TestCancelChecksEveryBlock(t *testing.T) {
	for _, c := range []struct {
		name    string
		tc      backendtest.Case
		workers int
	}{
		{"by_rows", backendtest.Case{NQ: 400, NK: 50, D: 8, DV: 4, Variance: 1}, 2},
		{"by_rows_one_worker", backendtest.Case{NQ: 400, NK: 50, D: 8, DV: 4, Variance: 1}, 1},
		{"by_keys", backendtest.Case{NQ: 2, NK: 400, D: 8, DV: 300, Variance: 1}, 2},
	} {
		for _, after := range []int{1, 2, 5, 9} {
			t.Run(fmt.Sprintf("%s/after_%d", c.name, after), func(t *testing.T) {
				b := New()
				b.tune = func(p *plan) { p.workers, p.rows, p.keys, p.cols, p.normRun = c.workers, 4, 2, 8, 16 }
				ctx := &countdownCtx{Context: context.Background(), n: after}
				err := b.Attention(ctx, c.tc.Args())
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Attention = %v, want context.Canceled", err)
				}
				// ~100 blocks per phase: it must stop within a block per
				// worker of the countdown.
				if ctx.calls > after+c.workers {
					t.Errorf("ctx.Err called %d times after cancelling at call %d", ctx.calls, after)
				}
			})
		}
	}
}

func TestExpNeg(t *testing.T) {
	var worst float64
	for i := 0; i <= 200000; i++ {
		x := -80 * float64(i) / 200000
		got := float64(expNeg(x))
		want := float64(float32(math.Exp(x)))
		// within one float32 ulp of the correctly rounded value
		ulp := float64(math.Nextafter32(float32(want), 2)) - want
		if d := math.Abs(got - want); d > ulp {
			t.Fatalf("expNeg(%v) = %v, want %v (±1 ulp)", x, got, want)
		} else {
			worst = max(worst, d/ulp)
		}
	}
	t.Logf("worst error %.2f ulp", worst)
	for _, c := range []struct {
		name string
		x    float64
		want float32
	}{
		{"zero", 0, 1},
		{"below_cutoff", -80.5, 0},
		{"minus_inf", math.Inf(-1), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := expNeg(c.x); got != c.want {
				t.Errorf("expNeg(%v) = %v, want %v", c.x, got, c.want)
			}
		})
	}
	if got := expNeg(math.NaN()); !math.IsNaN(float64(got)) {
		t.Errorf("expNeg(NaN) = %v, want NaN", got)
	}
}

// TestSoftmaxRowMatchesExpNeg: softmaxRow's written-out exponential gives
// expNeg's bits, and the weights are exp(l − max).
func TestSoftmaxRowMatchesExpNeg(t *testing.T) {
	for _, c := range []struct {
		name string
		l    []float64
	}{
		{"spread", []float64{-3, 0.5, -90, 2, -81.5, -79.9, 1e-9, 2}},
		{"one", []float64{-7}},
		{"huge", []float64{1e6, -1e6, 1e6 - 50, 1e6 - 100}},
		{"ramp", func() []float64 {
			l := make([]float64, 1000)
			for i := range l {
				l[i] = -0.0813 * float64(i)
			}
			return l
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := make([]float64, len(c.l))
			s := softmaxRow(c.l, p)
			m := c.l[0]
			for _, x := range c.l {
				m = max(m, x)
			}
			var want float64
			for j, x := range c.l {
				w := float64(expNeg(x - m))
				if p[j] != w {
					t.Fatalf("p[%d] = %v, expNeg gives %v", j, p[j], w)
				}
				want += w
			}
			if s != want {
				t.Errorf("sum = %v, want %v", s, want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	fp := New().Fingerprint()
	if fp.Backend != "cpu" || fp.Precision != "fp32" || fp.Class != "cpu" || fp.Device == "" {
		t.Errorf("Fingerprint() = %+v", fp)
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"intel", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)   Gold 6338 CPU\nflags\t: fpu\n", "Intel(R) Xeon(R) Gold 6338 CPU"},
		{"first_of_many", "model name : A\nmodel name : B\n", "A"},
		{"none", "processor : 0\nBogoMIPS : 50.00\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := parseCPUModel(strings.NewReader(c.in)); got != c.want {
				t.Errorf("parseCPUModel = %q, want %q", got, c.want)
			}
		})
	}
}

// TestRandomShapes: many random small shapes, each under the default plan
// and two random ones, agree with the oracle and with each other to the bit.
func TestRandomShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for n := range 150 {
		c := backendtest.Case{
			NQ: rng.IntN(40), NK: 1 + rng.IntN(40), D: rng.IntN(20), DV: 1 + rng.IntN(10),
			Variance: float32(0.05 + 2*rng.Float64()),
			Bias:     backendtest.BiasKind(rng.IntN(3)),
			KNorm:    rng.IntN(2) == 0,
			Data:     backendtest.DataKind(rng.IntN(4)),
			Seed:     uint64(n),
		}
		c.Name = fmt.Sprintf("%d_%dx%dx%dx%d", n, c.NQ, c.NK, c.D, c.DV)
		t.Run(c.Name, func(t *testing.T) {
			want := c.Args()
			backendtest.Reference(want)
			var first []float32
			for k := range 3 {
				b := New()
				if k > 0 {
					byKeys, widen, transpose := rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0
					rows, keys, cols, pvKeys, normRun := 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(9), 1+rng.IntN(9)
					workers := 1 + rng.IntN(4)
					b.tune = func(p *plan) {
						p.byKeys, p.widen, p.transpose, p.workers = byKeys, widen, widen && transpose, workers
						p.rows, p.keys, p.cols, p.pvKeys, p.normRun = rows, keys, cols, pvKeys, normRun
					}
				}
				a := c.Args()
				if err := b.Attention(context.Background(), a); err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = a.Out
					e, err := backendtest.MaxError(a.Out, want.Out, a.V)
					if err != nil {
						t.Fatal(err)
					}
					// A given KNorm is rounded to float32: its error, up to
					// 2⁻²⁴·‖k‖², moves logits by up to that over 2v.
					tol := 1e-6
					for _, kn := range a.KNorm {
						tol = max(tol, 1e-6+2*float64(kn)/(1<<24)/(2*float64(c.Variance)))
					}
					if e > tol {
						t.Fatalf("max error %.3g vs the oracle (tol %.3g)", e, tol)
					}
					continue
				}
				for i := range first {
					if math.Float32bits(a.Out[i]) != math.Float32bits(first[i]) {
						t.Fatalf("random plan %d: out[%d] = %v, default plan gave %v", k, i, a.Out[i], first[i])
					}
				}
			}
		})
	}
}
