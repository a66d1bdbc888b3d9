package sampler

import (
	"math"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
	"github.com/regen-dev/regen/executor/nodes/internal/nodetest"
	"github.com/regen-dev/regen/executor/sampling"
)

func sigmaNode(t *testing.T, name string) node.Node {
	t.Helper()
	for _, n := range sigmaNodes() {
		if n.Spec().Name == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return nil
}

func TestSigmaNodes(t *testing.T) {
	t.Parallel()
	s := sampling.Sigmas{10, 5, 2, 1, 0}
	f := func(v float64) float64 { return float64(float32(v)) }
	tests := []struct {
		name string
		in   map[string]any
		want []sampling.Sigmas
	}{
		{"SplitSigmas", map[string]any{"sigmas": s, "step": int64(2)}, []sampling.Sigmas{{10, 5, 2}, {2, 1, 0}}},
		{"SplitSigmas", map[string]any{"sigmas": s, "step": int64(99)}, []sampling.Sigmas{{10, 5, 2, 1, 0}, {}}},
		{"SplitSigmasDenoise", map[string]any{"sigmas": s, "denoise": 0.5}, []sampling.Sigmas{{10, 5, 2}, {2, 1, 0}}},
		{"SplitSigmasDenoise", map[string]any{"sigmas": s, "denoise": 0.0}, []sampling.Sigmas{{}, {0}}},
		{"FlipSigmas", map[string]any{"sigmas": s}, []sampling.Sigmas{{f(0.0001), 1, 2, 5, 10}}},
		{"SetFirstSigma", map[string]any{"sigmas": s, "sigma": 136.0}, []sampling.Sigmas{{136, 5, 2, 1, 0}}},
		{"SDTurboScheduler", map[string]any{"model": node.Model(nodetest.Model{}), "steps": int64(2), "denoise": 0.5},
			[]sampling.Sigmas{{sampling.DefaultTable()[499], sampling.DefaultTable()[399], 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := nodetest.Exec(t, sigmaNode(t, tc.name), nil, tc.in)
			for i, w := range tc.want {
				if got := out[i].(sampling.Sigmas); !slices.Equal(got, w) {
					t.Fatalf("output %d = %v, want %v", i, got, w)
				}
			}
		})
	}
	if s[0] != 10 || s[4] != 0 {
		t.Fatal("a sigma node modified its input")
	}
}

func TestParametricSchedulers(t *testing.T) {
	t.Parallel()
	exp := nodetest.Exec(t, sigmaNode(t, "ExponentialScheduler"), nil, map[string]any{"steps": int64(6), "sigma_max": 14.614642, "sigma_min": 0.0291675})[0].(sampling.Sigmas)
	poly := nodetest.Exec(t, sigmaNode(t, "PolyexponentialScheduler"), nil, map[string]any{"steps": int64(6), "sigma_max": 14.614642, "sigma_min": 0.0291675, "rho": 1.0})[0].(sampling.Sigmas)
	if len(exp) != 7 || exp[0] != float64(float32(14.614642)) || exp[5] != float64(float32(0.0291675)) {
		t.Fatalf("exponential %v", exp)
	}
	for i := range exp {
		if math.Abs(exp[i]-poly[i]) > 1e-6*exp[i] {
			t.Fatalf("polyexponential ρ=1 differs from exponential at %d: %v vs %v", i, poly[i], exp[i])
		}
	}
	vp := nodetest.Exec(t, sigmaNode(t, "VPScheduler"), nil, map[string]any{"steps": int64(3), "beta_d": 19.9, "beta_min": 0.1, "eps_s": 0.001})[0].(sampling.Sigmas)
	if want := math.Sqrt(math.Expm1(19.9/2 + 0.1)); math.Abs(vp[0]-want) > 1e-4*want || vp[3] != 0 {
		t.Fatalf("vp %v, first want %v", vp, want)
	}
	lap := nodetest.Exec(t, sigmaNode(t, "LaplaceScheduler"), nil, map[string]any{"steps": int64(5), "sigma_max": 14.6, "sigma_min": 0.03, "mu": 0.0, "beta": 0.5})[0].(sampling.Sigmas)
	// x = 0 → exp(−0.5·ln(1e−5)) ≈ 316 clamped to σ_max; x = ½ → exp(0) = 1; no final 0.
	if len(lap) != 5 || lap[0] != float64(float32(14.6)) || lap[2] != 1 || lap[4] != float64(float32(0.03)) {
		t.Fatalf("laplace %v", lap)
	}
	beta := nodetest.Exec(t, sigmaNode(t, "BetaSamplingScheduler"), nil, map[string]any{"model": node.Model(nodetest.Model{}), "steps": int64(10), "alpha": 0.6, "beta": 0.6})[0].(sampling.Sigmas)
	want, _ := sampling.Schedule("beta", sampling.DefaultTable(), 10)
	if !slices.Equal([]float64(beta), want) {
		t.Fatalf("BetaSamplingScheduler(0.6, 0.6) %v differs from the beta scheduler %v", beta, want)
	}
}
