package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/regen-dev/regen/executor/backend"
)

// Options adjust the suite to a backend's precision.
type Options struct {
	// Tol bounds |out − reference| / max|V| per element. Zero means
	// DefaultTol.
	Tol float64
	// Skip names accuracy cases (Case.Name) the backend is not expected to
	// pass, e.g. "offset_cancellation" for a kernel that accumulates dot
	// products in float32 (its error there is ~1e-7·√D·‖q‖²/(2v) in the
	// logits). Each is reported as skipped, with its name.
	Skip []string
	// Nondeterministic is for a backend that changes its summation order
	// from call to call, as GPU atomics do: "deterministic" then checks that
	// repeated calls agree within Tol/10 instead of bit for bit, and logs
	// how many elements differed.
	Nondeterministic bool
}

// DefaultTol is the fp32 tolerance: a backend that stores float32 and
// computes distances and exponentials accurately stays well inside it.
const DefaultTol = 2e-5

// Run runs the conformance suite against b.
func Run(t *testing.T, b backend.Backend, opts ...Options) {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Tol == 0 {
		o.Tol = DefaultTol
	}
	t.Run("accuracy", func(t *testing.T) { testAccuracy(t, b, o) })
	t.Run("single_key_is_exact", func(t *testing.T) { testSingleKey(t, b) })
	t.Run("bias_zero_equals_nil", func(t *testing.T) { testZeroBias(t, b, o) })
	t.Run("knorm_given_or_not", func(t *testing.T) { testKNorm(t, b, o) })
	t.Run("no_queries", func(t *testing.T) { testNoQueries(t, b) })
	t.Run("deterministic", func(t *testing.T) { testDeterminism(t, b, o) })
	t.Run("cancellation", func(t *testing.T) { testCancellation(t, b) })
	t.Run("invalid_arguments", func(t *testing.T) { testInvalid(t, b) })
}

// MaxError returns max |got − want| / max|v| over the elements, and an
// error if got holds a NaN or infinity that want does not.
func MaxError(got, want, v []float32) (float64, error) {
	var scale float64
	for _, x := range v {
		scale = max(scale, math.Abs(float64(x)))
	}
	if scale == 0 {
		scale = 1
	}
	var worst float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			if math.IsNaN(w) || math.IsInf(w, 0) {
				continue
			}
			return math.Inf(1), fmt.Errorf("out[%d] = %v, want %v", i, g, w)
		}
		worst = max(worst, math.Abs(g-w)/scale)
	}
	return worst, nil
}

func attend(t *testing.T, b backend.Backend, a *backend.AttentionArgs) {
	t.Helper()
	if err := b.Attention(context.Background(), a); err != nil {
		t.Fatalf("Attention(NQ=%d NK=%d D=%d DV=%d): %v", a.NQ, a.NK, a.D, a.DV, err)
	}
}

func testAccuracy(t *testing.T, b backend.Backend, o Options) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if slices.Contains(o.Skip, c.Name) {
				t.Skipf("%s skipped by Options.Skip", c.Name)
			}
			a := c.Args()
			want := c.Args()
			Reference(want)
			attend(t, b, a)
			e, err := MaxError(a.Out, want.Out, a.V)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("max error %.3g (tol %.3g)", e, o.Tol)
			if e > o.Tol {
				t.Errorf("max error %.3g > tol %.3g", e, o.Tol)
			}
		})
	}
}

// testSingleKey: with one key every weight is 1, so out must be V[0]
// exactly, whatever the logit.
func testSingleKey(t *testing.T, b backend.Backend) {
	c := Case{NQ: 6, NK: 1, D: 9, DV: 5, Variance: 1e-3, Bias: BiasHuge, Seed: 20}
	a := c.Args()
	attend(t, b, a)
	for i := range a.NQ {
		for d := range a.DV {
			if got, want := a.Out[i*a.DV+d], a.V[d]; got != want {
				t.Fatalf("out[%d,%d] = %v, want V[0,%d] = %v", i, d, got, d, want)
			}
		}
	}
}

func testZeroBias(t *testing.T, b backend.Backend, o Options) {
	c := Case{NQ: 20, NK: 33, D: 12, DV: 7, Variance: 0.3, Seed: 21}
	a := c.Args()
	c.Bias = BiasZero
	z := c.Args()
	attend(t, b, a)
	attend(t, b, z)
	e, err := MaxError(z.Out, a.Out, a.V)
	if err != nil {
		t.Fatal(err)
	}
	if e > o.Tol/100 {
		t.Errorf("zero bias vs nil bias: max difference %.3g, want ≈ 0", e)
	}
}

func testKNorm(t *testing.T, b backend.Backend, o Options) {
	for _, c := range []Case{
		{Name: "many_queries", NQ: 50, NK: 70, D: 20, DV: 6, Variance: 0.5, Seed: 22},
		{Name: "few_queries", NQ: 2, NK: 30, D: 300, DV: 300, Variance: 5, Seed: 23},
	} {
		t.Run(c.Name, func(t *testing.T) {
			a := c.Args()
			c.KNorm = true
			k := c.Args()
			attend(t, b, a)
			attend(t, b, k)
			e, err := MaxError(k.Out, a.Out, a.V)
			if err != nil {
				t.Fatal(err)
			}
			if e > o.Tol {
				t.Errorf("KNorm given vs nil: max difference %.3g > tol %.3g", e, o.Tol)
			}
			k64 := c.Args()
			k64.KNorm, k64.KNorm64 = nil, KeyNorms64(k64.K, c.NK, c.D)
			attend(t, b, k64)
			e, err = MaxError(k64.Out, a.Out, a.V)
			if err != nil {
				t.Fatal(err)
			}
			if e > o.Tol {
				t.Errorf("KNorm64 given vs nil: max difference %.3g > tol %.3g", e, o.Tol)
			}
		})
	}
}

func testNoQueries(t *testing.T, b backend.Backend) {
	c := Case{NQ: 0, NK: 5, D: 3, DV: 2, Variance: 1}
	attend(t, b, c.Args())
}

// testDeterminism: the same arguments give the same bits run after run and
// whatever GOMAXPROCS is (for a nondeterministic backend: the same within
// Tol/10). It changes GOMAXPROCS, so it must not run in parallel with other
// tests.
func testDeterminism(t *testing.T, b backend.Backend, o Options) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []Case{
		{Name: "gmm_like", NQ: 3, NK: 61, D: 777, DV: 777, Variance: 2, Bias: BiasRandom, Seed: 30},
		{Name: "els_like", NQ: 257, NK: 333, D: 36, DV: 4, Variance: 0.5, Data: Clustered, Seed: 31},
		{Name: "vae_like", NQ: 50, NK: 301, D: 36, DV: 192, Variance: 0.5, Seed: 32},
	} {
		t.Run(c.Name, func(t *testing.T) {
			var first []float32
			for _, procs := range []int{1, 2, 3, 8, 2} {
				runtime.GOMAXPROCS(procs)
				a := c.Args()
				attend(t, b, a)
				if first == nil {
					first = a.Out
					continue
				}
				if o.Nondeterministic {
					e, err := MaxError(a.Out, first, a.V)
					if err != nil {
						t.Fatal(err)
					}
					differ := 0
					for i := range first {
						if math.Float32bits(a.Out[i]) != math.Float32bits(first[i]) {
							differ++
						}
					}
					t.Logf("GOMAXPROCS=%d: %d of %d elements differ from the first call, max difference %.3g", procs, differ, len(first), e)
					if e > o.Tol/10 {
						t.Errorf("GOMAXPROCS=%d: max difference %.3g from the first call > %.3g", procs, e, o.Tol/10)
					}
					continue
				}
				for i := range first {
					if math.Float32bits(a.Out[i]) != math.Float32bits(first[i]) {
						t.Fatalf("GOMAXPROCS=%d: out[%d] = %v (%#x), GOMAXPROCS=1 gave %v (%#x)",
							procs, i, a.Out[i], math.Float32bits(a.Out[i]), first[i], math.Float32bits(first[i]))
					}
				}
			}
		})
	}
}

// testCancellation: a cancelled context is refused, and one that expires
// mid-call stops the call between blocks (a job of ~9 GFLOP, seconds on a
// CPU, must return within a second of a 10 ms deadline).
func testCancellation(t *testing.T, b backend.Backend) {
	t.Run("already_cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a := Case{NQ: 4, NK: 4, D: 4, DV: 4, Variance: 1}.Args()
		if err := b.Attention(ctx, a); !errors.Is(err, context.Canceled) {
			t.Fatalf("Attention with a cancelled context = %v, want context.Canceled", err)
		}
	})
	t.Run("deadline_mid_call", func(t *testing.T) {
		a := Case{NQ: 8192, NK: 8192, D: 64, DV: 4, Variance: 1, Seed: 40}.Args()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := b.Attention(ctx, a)
		took := time.Since(start)
		t.Logf("returned %v after %v", err, took)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Attention = %v, want nil or context.DeadlineExceeded", err)
		}
		if err != nil && took > time.Second {
			t.Errorf("Attention took %v to notice a 10ms deadline", took)
		}
	})
}

func testInvalid(t *testing.T, b backend.Backend) {
	ok := func() *backend.AttentionArgs { return Case{NQ: 3, NK: 4, D: 5, DV: 2, Variance: 1}.Args() }
	for _, c := range []struct {
		name   string
		mutate func(a *backend.AttentionArgs)
	}{
		{"short_Q", func(a *backend.AttentionArgs) { a.Q = a.Q[:len(a.Q)-1] }},
		{"short_K", func(a *backend.AttentionArgs) { a.K = a.K[:len(a.K)-1] }},
		{"short_V", func(a *backend.AttentionArgs) { a.V = a.V[:len(a.V)-1] }},
		{"short_Out", func(a *backend.AttentionArgs) { a.Out = a.Out[:len(a.Out)-1] }},
		{"short_Bias", func(a *backend.AttentionArgs) { a.Bias = make([]float32, a.NK-1) }},
		{"short_KNorm", func(a *backend.AttentionArgs) { a.KNorm = make([]float32, a.NK-1) }},
		{"short_KNorm64", func(a *backend.AttentionArgs) { a.KNorm64 = make([]float64, a.NK-1) }},
		{"zero_variance", func(a *backend.AttentionArgs) { a.Variance = 0 }},
		{"nan_variance", func(a *backend.AttentionArgs) { a.Variance = float32(math.NaN()) }},
		{"negative_shape", func(a *backend.AttentionArgs) { a.D = -1 }},
		{"no_keys", func(a *backend.AttentionArgs) { a.NK, a.K, a.V = 0, nil, nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := ok()
			c.mutate(a)
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Attention panicked instead of returning an error: %v", r)
				}
			}()
			if err := b.Attention(context.Background(), a); err == nil {
				t.Fatal("Attention accepted malformed arguments")
			}
		})
	}
}
