package sampling

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

// fakeModel is an exact denoiser of a known per-element data distribution.
type fakeModel struct {
	d     func(x, sigma float64, c node.Cond) float64
	calls int
}

func (m *fakeModel) Predict(_ context.Context, x *node.Tensor, sigma float64, c node.Cond) (*node.Tensor, error) {
	m.calls++
	out := node.NewTensor(x.Shape...)
	for i, v := range x.Data {
		out.Data[i] = float32(m.d(float64(v), sigma, c))
	}
	return out, nil
}
func (m *fakeModel) SigmaTable() []float64 { return DefaultTable() }

// Predict2 is m as a bare Denoiser (no guider).
func (m *fakeModel) Predict2() Denoiser {
	return func(ctx context.Context, x *node.Tensor, sigma float64) (*node.Tensor, error) {
		return m.Predict(ctx, x, sigma, node.Cond{})
	}
}
func (m *fakeModel) LatentChannels() int { return 4 }
func (m *fakeModel) Hash() string        { return "fake" }

// Data distributions with their exact posterior means.
var (
	// One point μ: D = μ.
	pointModel = func(mu float64) *fakeModel {
		return &fakeModel{d: func(float64, float64, node.Cond) float64 { return mu }}
	}
	// N(μ, s²): D = μ + s²/(s²+σ²)·(x − μ).
	gaussModel = func(mu, s float64) *fakeModel {
		return &fakeModel{d: func(x, sg float64, _ node.Cond) float64 { return mu + s*s/(s*s+sg*sg)*(x-mu) }}
	}
	// ½δ(−a) + ½δ(+a): D = a·tanh(a·x/σ²).
	twoPointModel = func(a float64) *fakeModel {
		return &fakeModel{d: func(x, sg float64, _ node.Cond) float64 { return a * math.Tanh(a*x/(sg*sg)) }}
	}
)

// run samples n elements from pure noise with the guider pipeline.
func run(t *testing.T, name string, m node.Model, steps int, seed uint64, o *Options) *node.Tensor {
	t.Helper()
	// Negative = positive: with cfg 1 the CFG++ samplers see U = D.
	g := &Guider{Model: m, Positive: node.Conditioning{{}}, Negative: node.Conditioning{{}}, CFG: 1}
	return runGuided(t, name, g, steps, seed, o)
}

// shiftedModel is N(Vec[0], 0.5²): conditioning moves the mean.
func shiftedModel() *fakeModel {
	return &fakeModel{d: func(x, sg float64, c node.Cond) float64 {
		mu := float64(c.Vec[0])
		return mu + 0.25/(0.25+sg*sg)*(x-mu)
	}}
}

// runGuided is run with an explicit guider.
func runGuided(t *testing.T, name string, g *Guider, steps int, seed uint64, o *Options) *node.Tensor {
	t.Helper()
	m := g.Model
	s, err := NewSampler(name)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := KSamplerSigmas(m.SigmaTable(), "karras", name, steps, 1)
	if err != nil {
		t.Fatal(err)
	}
	lat := node.Latent{Samples: node.NewTensor(1, 4, 16, 16)}
	noise, err := PrepareNoise(lat, seed)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil {
		o = &Options{}
	}
	o.Seed = seed
	out, err := g.Sample(context.Background(), s, noise, lat.Samples, sig, o)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !finite(out) {
		t.Fatalf("%s: non-finite output", name)
	}
	return out
}

func meanStd(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestSamplerNames(t *testing.T) {
	t.Parallel()
	names := SamplerNames()
	// Every brief-required sampler is there, in ComfyUI's relative order.
	required := []string{"euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms",
		"dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m", "dpmpp_2m_sde", "ddpm", "lcm", "ddim", "uni_pc", "uni_pc_bh2"}
	last := -1
	for _, r := range required {
		i := slices.Index(names, r)
		if i < 0 || i < last {
			t.Fatalf("%s missing or out of ComfyUI order in %v", r, names)
		}
		last = i
	}
	// The sampler_name COMBO of a real ComfyUI's /object_info (the capture
	// in shared/workflows/object-info-sd15.json): every one is implemented,
	// in the same order.
	comfy := []string{
		"euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2",
		"exp_heun_2_x0", "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast",
		"dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu",
		"dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun",
		"dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm", "ipndm_v",
		"deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
		"res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde",
		"seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2",
	}
	if !slices.Equal(names, comfy) {
		t.Fatalf("SamplerNames() = %v\nComfyUI has %v", names, comfy)
	}
	if _, err := NewSampler("nope"); err == nil {
		t.Fatal("unknown sampler: want an error")
	}
}

// Every sampler ends at μ when the data is the single point μ.
func TestSamplersConvergePoint(t *testing.T) {
	t.Parallel()
	for _, name := range SamplerNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := run(t, name, pointModel(0.37), 12, 7, nil)
			tol := 1e-5
			switch name {
			case "uni_pc", "uni_pc_bh2":
				tol = 5e-3 // ComfyUI's UniPC stops at σ = 0.001: 0.001·ε is left
			case "dpm_fast", "dpm_adaptive":
				tol = 0.15 // these stop at σ_min ≈ 0.029: σ_min·ε is left
			}
			for i, v := range out.Data {
				if math.Abs(float64(v)-0.37) > tol {
					t.Fatalf("[%d] = %v, want 0.37", i, v)
				}
			}
		})
	}
}

// Deterministic samplers follow the probability-flow ODE of N(μ, s²):
// x(σ) − μ = (x(σ0) − μ)·sqrt(s²+σ²)/sqrt(s²+σ0²). Every schedule ends with
// a jump σ_last → 0 that ComfyUI's samplers take as x = D(x, σ_last) (UniPC
// as a first-order step to 0.001), so the reference is D at σ_last of the
// exact ODE solution. Errors must shrink at the method's order when the
// step count is quadrupled.
func TestDeterministicSamplersSolveODE(t *testing.T) {
	t.Parallel()
	const mu, s = 0.5, 0.6
	maxErr := func(t *testing.T, name string, steps int) float64 {
		out := run(t, name, gaussModel(mu, s), steps, 3, nil)
		noise, _ := PrepareNoise(node.Latent{Samples: node.NewTensor(1, 4, 16, 16)}, 3)
		sig, _ := KSamplerSigmas(DefaultTable(), "karras", name, steps, 1)
		s0, sl := sig[0], sig[len(sig)-2]
		worst := 0.0
		for i, v := range out.Data {
			x0 := float64(noise.Data[i]) * math.Sqrt(1+s0*s0)
			want := mu + (x0-mu)*s*s/math.Sqrt((s*s+sl*sl)*(s*s+s0*s0))
			worst = math.Max(worst, math.Abs(float64(v)-want))
		}
		return worst
	}
	tests := []struct {
		name  string
		order float64 // observed convergence order to require
	}{
		{"euler", 1}, {"ddim", 1}, {"heunpp2", 1},
		{"heun", 2}, {"dpm_2", 2}, {"dpmpp_2m", 2}, {"ipndm", 2}, {"res_multistep", 2}, {"lms", 3},
		{"ipndm_v", 1.5}, {"gradient_estimation", 1}, {"exp_heun_2_x0", 2}, {"deis", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e20, e80 := maxErr(t, tc.name, 20), maxErr(t, tc.name, 80)
			// 4× the steps: error ÷ 4^order, with a factor 1.5 of slack.
			if lim := e20 / math.Pow(4, tc.order) * 1.5; e80 > lim {
				t.Fatalf("error %.3g at 20 steps, %.3g at 80: not order %v", e20, e80, tc.order)
			}
			if e80 > 0.05 {
				t.Fatalf("error at 80 steps %.3g", e80)
			}
		})
	}
	// UniPC (order 3 multistep) reaches its floor, set by the final jump to
	// σ = 0.001, within 20 steps.
	for _, name := range []string{"uni_pc", "uni_pc_bh2"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if e := maxErr(t, name, 20); e > 1e-3 {
				t.Fatalf("error at 20 steps %.3g", e)
			}
		})
	}
}

// Stochastic samplers draw from the data distribution: for N(μ, s²) the
// final values (1024 independent elements) have mean ≈ μ and std ≈ s.
func TestStochasticSamplersSampleGaussian(t *testing.T) {
	t.Parallel()
	const mu, s = -0.3, 0.8
	// lcm is left out: re-noising the posterior mean (rather than a sample)
	// shrinks the variance, so LCM with an exact denoiser is not a sampler
	// of N(μ, s²); it is covered by the point and two-point tests.
	for _, name := range []string{"euler_ancestral", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde", "ddpm", "res_multistep_ancestral",
		"exp_heun_2_x0_sde", "seeds_2", "seeds_3", "er_sde", "euler_ancestral_cfg_pp", "dpmpp_2s_ancestral_cfg_pp",
		"sa_solver", "sa_solver_pece"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			steps := 40
			out := run(t, name, gaussModel(mu, s), steps, 11, nil)
			m, sd := meanStd(out.Data)
			if math.Abs(m-mu) > 0.08 || math.Abs(sd-s) > 0.08 {
				t.Fatalf("mean %.3f std %.3f, want %.3f, %.3f", m, sd, mu, s)
			}
		})
	}
}

// With two data points ±a every sampler ends near one of them, and both
// are reached about equally often.
func TestSamplersTwoPointMixture(t *testing.T) {
	t.Parallel()
	const a = 1.0
	for _, name := range SamplerNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := run(t, name, twoPointModel(a), 25, 5, nil)
			pos := 0
			tol := 0.02
			switch name {
			case "uni_pc", "uni_pc_bh2":
				tol = 0.05
			case "dpm_fast", "dpm_adaptive":
				tol = 0.15 // they stop at σ_min
			}
			for i, v := range out.Data {
				if math.Abs(math.Abs(float64(v))-a) > tol {
					t.Fatalf("[%d] = %v, not near ±%v", i, v, a)
				}
				if v > 0 {
					pos++
				}
			}
			if f := float64(pos) / float64(len(out.Data)); f < 0.4 || f > 0.6 {
				t.Fatalf("fraction at +a = %.2f", f)
			}
		})
	}
}

func TestSamplersDeterministicAndDistinct(t *testing.T) {
	t.Parallel()
	alias := map[string]string{"ddim": "euler", "dpmpp_sde_gpu": "dpmpp_sde", "dpmpp_2m_sde_gpu": "dpmpp_2m_sde",
		"dpmpp_2m_sde_heun_gpu": "dpmpp_2m_sde_heun", "dpmpp_3m_sde_gpu": "dpmpp_3m_sde"}
	outs := map[string]*node.Tensor{}
	g := &Guider{Model: shiftedModel(), Positive: node.Conditioning{{Vec: []float32{0.4}}}, Negative: node.Conditioning{{Vec: []float32{-0.2}}}, CFG: 2.5}
	for _, name := range SamplerNames() {
		a := runGuided(t, name, g, 8, 9, nil)
		b := runGuided(t, name, g, 8, 9, nil)
		if !slices.Equal(a.Data, b.Data) {
			t.Fatalf("%s: two runs differ", name)
		}
		outs[name] = a
	}
	names := SamplerNames()
	for i, x := range names {
		for _, y := range names[i+1:] {
			same := slices.Equal(outs[x].Data, outs[y].Data)
			want := alias[x] == y || alias[y] == x
			if same != want {
				t.Errorf("%s vs %s: identical = %v, want %v", x, y, same, want)
			}
		}
	}
	// A different seed changes stochastic samplers.
	if slices.Equal(runGuided(t, "euler_ancestral", g, 8, 10, nil).Data, outs["euler_ancestral"].Data) {
		t.Fatal("euler_ancestral ignores the seed")
	}
}

func TestSamplerProgressAndInterrupt(t *testing.T) {
	t.Parallel()
	for _, name := range SamplerNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got [][2]int
			run(t, name, pointModel(0), 6, 1, &Options{Progress: func(v, m int) error {
				got = append(got, [2]int{v, m})
				return nil
			}})
			total := 6
			if name == "dpm_fast" || name == "dpm_adaptive" {
				// One call per solver step (not per sigma), as ComfyUI.
				if len(got) == 0 || got[0] != [2]int{1, total} {
					t.Fatalf("progress calls %v", got)
				}
			} else if len(got) != total {
				t.Fatalf("%d progress calls, want %d: %v", len(got), total, got)
			}
			for i, p := range got {
				if p != [2]int{i + 1, total} {
					t.Fatalf("call %d = %v, want [%d %d]", i, p, i+1, total)
				}
			}
			stop := errors.New("stop")
			m := pointModel(0)
			s, _ := NewSampler(name)
			sig, _ := KSamplerSigmas(m.SigmaTable(), "karras", name, 6, 1)
			x := node.NewTensor(1, 4, 2, 2)
			calls := 0
			g := &Guider{Model: m, Positive: node.Conditioning{{}}, Negative: node.Conditioning{{}}, CFG: 1}
			_, err := g.Sample(context.Background(), s, x, x, sig,
				&Options{Progress: func(v, _ int) error {
					calls++
					if v == 3 {
						return stop
					}
					return nil
				}})
			if !errors.Is(err, stop) || calls != 3 {
				t.Fatalf("err = %v after %d calls, want stop after 3", err, calls)
			}
		})
	}
}

func TestBrownianTree(t *testing.T) {
	t.Parallel()
	const n = 20000
	b := NewBrownianTree(0.03, 14.6, n, 5)
	// Additivity: W(c)−W(a) = (W(b)−W(a)) + (W(c)−W(b)).
	ab, bc, ac := b.Increment(1, 2.5), b.Increment(2.5, 7), b.Increment(1, 7)
	for i := range ac {
		if math.Abs(ab[i]+bc[i]-ac[i]) > 1e-9 {
			t.Fatalf("not additive at %d", i)
		}
	}
	// Increments over disjoint intervals are independent N(0, |t−s|).
	_, v1 := meanStdF(ab)
	_, v2 := meanStdF(bc)
	if math.Abs(v1*v1/1.5-1) > 0.05 || math.Abs(v2*v2/4.5-1) > 0.05 {
		t.Fatalf("variances %.3f, %.3f; want 1.5, 4.5", v1*v1, v2*v2)
	}
	var cov float64
	for i := range ab {
		cov += ab[i] * bc[i]
	}
	if c := cov / n / math.Sqrt(1.5*4.5); math.Abs(c) > 0.03 {
		t.Fatalf("correlation of disjoint increments %.3f", c)
	}
	// Sign convention and reproducibility.
	ba := b.Increment(2.5, 1)
	again := NewBrownianTree(14.6, 0.03, n, 5).Increment(1, 2.5)
	for i := range ab {
		if ba[i] != -ab[i] || again[i] != ab[i] {
			t.Fatalf("sign or reproducibility broken at %d", i)
		}
	}
}

func meanStdF(v []float64) (mean, std float64) {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return meanStd(f)
}

func TestLMSCoeffMatchesQuadrature(t *testing.T) {
	t.Parallel()
	sig := []float64{14.6, 9.7, 6.1, 3.5, 1.9, 0.9}
	for order := 1; order <= 4; order++ {
		i := 4
		sum := 0.0
		for j := 0; j < order; j++ {
			c := lmsCoeff(order, sig, i, j)
			// Composite Simpson on the Lagrange basis polynomial.
			f := func(tau float64) float64 {
				p := 1.0
				for k := 0; k < order; k++ {
					if k != j {
						p *= (tau - sig[i-k]) / (sig[i-j] - sig[i-k])
					}
				}
				return p
			}
			const m = 1000
			h := (sig[i+1] - sig[i]) / m
			q := f(sig[i]) + f(sig[i+1])
			for k := 1; k < m; k++ {
				w := 2.0
				if k%2 == 1 {
					w = 4
				}
				q += w * f(sig[i]+float64(k)*h)
			}
			q *= h / 3
			if math.Abs(c-q) > 1e-9 {
				t.Fatalf("order %d j %d: closed form %.12g, quadrature %.12g", order, j, c, q)
			}
			sum += c
		}
		// The basis sums to 1, so the coefficients sum to Δσ.
		if math.Abs(sum-(sig[i+1]-sig[i])) > 1e-12 {
			t.Fatalf("order %d: Σc = %v, want %v", order, sum, sig[i+1]-sig[i])
		}
	}
}
