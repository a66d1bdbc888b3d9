package sampling

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/regen-dev/regen/executor/node"
)

func TestGuiderCFG(t *testing.T) {
	t.Parallel()
	// The model predicts the constant Vec[0] of its conditioning.
	m := &fakeModel{d: func(_, _ float64, c node.Cond) float64 { return float64(c.Vec[0]) }}
	pos := node.Conditioning{{Vec: []float32{2}}, {Vec: []float32{4}}}
	neg := node.Conditioning{{Vec: []float32{1}}}
	x := node.NewTensor(1, 1, 1, 1)
	tests := []struct {
		name  string
		cfg   float64
		want  float32
		calls int
	}{
		{"cfg 7.5: u + cfg·(c−u), c averages entries", 7.5, 1 + 7.5*(3-1), 3},
		{"cfg 1 skips uncond", 1, 3, 2},
		{"cfg 1+1e-12 still skips", 1 + 1e-12, 3, 2},
		{"cfg 0 gives uncond", 0, 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mm := *m
			g := &Guider{Model: &mm, Positive: pos, Negative: neg, CFG: tc.cfg}
			out, err := g.Denoiser()(context.Background(), x, 1)
			if err != nil {
				t.Fatal(err)
			}
			if out.Data[0] != tc.want || mm.calls != tc.calls {
				t.Fatalf("D = %v with %d model calls, want %v with %d", out.Data[0], mm.calls, tc.want, tc.calls)
			}
		})
	}
}

// With U = D (cfg 1, negative = positive) every CFG++ sampler is its base
// sampler; with real guidance it is not.
func TestCFGppReducesToBase(t *testing.T) {
	t.Parallel()
	pairs := map[string]string{
		"euler_cfg_pp": "euler", "euler_ancestral_cfg_pp": "euler_ancestral",
		"dpmpp_2s_ancestral_cfg_pp": "dpmpp_2s_ancestral", "dpmpp_2m_cfg_pp": "dpmpp_2m",
		"res_multistep_cfg_pp": "res_multistep", "res_multistep_ancestral_cfg_pp": "res_multistep_ancestral",
		"gradient_estimation_cfg_pp": "gradient_estimation",
	}
	for pp, base := range pairs {
		t.Run(pp, func(t *testing.T) {
			t.Parallel()
			a := run(t, pp, gaussModel(0.2, 0.5), 10, 4, nil)
			b := run(t, base, gaussModel(0.2, 0.5), 10, 4, nil)
			for i := range a.Data {
				if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-4 {
					t.Fatalf("[%d] %v vs %v", i, a.Data[i], b.Data[i])
				}
			}
			// Real guidance: the model predicts Vec[0]-shifted Gaussians.
			g := &Guider{Model: shiftedModel(), Positive: node.Conditioning{{Vec: []float32{0.5}}}, Negative: node.Conditioning{{Vec: []float32{-0.5}}}, CFG: 3}
			sig, _ := KSamplerSigmas(DefaultTable(), "karras", pp, 10, 1)
			noise := NewGenerator(4).Randn(1, 4, 4, 4)
			nt := &node.Tensor{Shape: []int{1, 4, 4, 4}, Data: noise}
			s1, _ := NewSampler(pp)
			s2, _ := NewSampler(base)
			x1, err1 := g.Sample(context.Background(), s1, nt, node.NewTensor(1, 4, 4, 4), sig, &Options{Seed: 4})
			x2, err2 := g.Sample(context.Background(), s2, nt, node.NewTensor(1, 4, 4, 4), sig, &Options{Seed: 4})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if slices.Equal(x1.Data, x2.Data) {
				t.Fatal("CFG++ equals its base sampler under real guidance")
			}
		})
	}
	// Without a Guider a CFG++ sampler refuses to run.
	s, _ := NewSampler("euler_cfg_pp")
	if _, err := s.Sample(context.Background(), pointModel(0).Predict2(), node.NewTensor(1), []float64{1, 0}, nil); err == nil {
		t.Fatal("CFG++ without a Guider: want an error")
	}
}

func TestSampleMasked(t *testing.T) {
	t.Parallel()
	lat := node.NewTensor(1, 1, 2, 4)
	for i := range lat.Data {
		lat.Data[i] = 0.25
	}
	mask := []float32{1, 1, 1, 1, 0, 0, 0, 0}
	noise := &node.Tensor{Shape: lat.Shape, Data: NewGenerator(3).Randn(1, 1, 2, 4)}
	sig, _ := KSamplerSigmas(DefaultTable(), "karras", "euler", 8, 1)
	g := &Guider{Model: coupledModel{}, Positive: node.Conditioning{{}}, CFG: 1}
	outs := map[string]*node.Tensor{}
	for _, name := range []string{"euler", "ddim"} {
		s, _ := NewSampler(name)
		out, err := g.SampleMasked(context.Background(), s, noise, lat, mask, sig, &Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i := 4; i < 8; i++ {
			if out.Data[i] != 0.25 {
				t.Fatalf("%s: kept value %d changed to %v", name, i, out.Data[i])
			}
		}
		for i := 0; i < 4; i++ {
			if math.Abs(float64(out.Data[i])+1) > 0.4 {
				t.Fatalf("%s: repainted value %d = %v, want near the data mean -1", name, i, out.Data[i])
			}
		}
		outs[name] = out
	}
	// ddim differs from euler only through its own inpaint noise.
	if slices.Equal(outs["euler"].Data, outs["ddim"].Data) {
		t.Fatal("ddim inpaint noise is not its own")
	}
	if _, err := g.SampleMasked(context.Background(), &Sampler{Name: "euler", fn: sampleEuler}, noise, lat, mask[:3], sig, nil); err == nil {
		t.Fatal("short mask: want an error")
	}
}

// coupledModel is N(−1, 0.3²) per element plus a small pull towards the
// batch mean, so that every element sees every other (as a real model's
// receptive field does).
type coupledModel struct{}

func (coupledModel) Predict(_ context.Context, x *node.Tensor, sigma float64, _ node.Cond) (*node.Tensor, error) {
	var mean float64
	for _, v := range x.Data {
		mean += float64(v)
	}
	mean /= float64(len(x.Data))
	out := node.NewTensor(x.Shape...)
	k := 0.09 / (0.09 + sigma*sigma)
	for i, v := range x.Data {
		out.Data[i] = float32(-1 + k*(float64(v)+1) + 0.01*k*mean)
	}
	return out, nil
}
func (coupledModel) SigmaTable() []float64 { return DefaultTable() }
func (coupledModel) LatentChannels() int   { return 1 }
func (coupledModel) Hash() string          { return "coupled" }

// dpm_fast and dpm_adaptive integrate the ODE of N(μ, s²) from σ_max to
// σ_min (they stop there, as in ComfyUI): compare with the exact solution.
func TestDPMSolverReachesSigmaMin(t *testing.T) {
	t.Parallel()
	const mu, s = 0.5, 0.6
	for _, name := range []string{"dpm_fast", "dpm_adaptive"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := run(t, name, gaussModel(mu, s), 30, 3, nil)
			noise, _ := PrepareNoise(node.Latent{Samples: node.NewTensor(1, 4, 16, 16)}, 3)
			sig, _ := KSamplerSigmas(DefaultTable(), "karras", name, 30, 1)
			s0, sl := sig[0], sig[len(sig)-2]
			worst := 0.0
			for i, v := range out.Data {
				x0 := float64(noise.Data[i]) * math.Sqrt(1+s0*s0)
				want := mu + (x0-mu)*math.Sqrt(s*s+sl*sl)/math.Sqrt(s*s+s0*s0)
				worst = math.Max(worst, math.Abs(float64(v)-want))
			}
			lim := 5e-3
			if name == "dpm_adaptive" {
				lim = 0.1 // its step control works to rtol 0.05, atol 0.0078
			}
			if worst > lim {
				t.Fatalf("max error %.3g against the exact ODE at σ_min", worst)
			}
		})
	}
}

// The DEIS coefficients integrate a Lagrange basis (which sums to 1)
// against dσ/dτ, so for every step they sum to σ_{i+1} − σ_i (up to the
// Riemann sum's error).
func TestDEISCoefficientsSumToStep(t *testing.T) {
	t.Parallel()
	sig, _ := KSamplerSigmas(DefaultTable(), "karras", "deis", 12, 1)
	c := deisCoefficients(sig, 3)
	for i := 1; i+1 < len(sig); i++ {
		var sum float64
		for _, v := range c[i] {
			sum += v
		}
		want := sig[i+1] - sig[i]
		if math.Abs(sum-want) > 2e-3*math.Abs(want) {
			t.Fatalf("step %d: Σc = %.6g, want %.6g", i, sum, want)
		}
	}
}

// saCoeffs against a direct quadrature of (1+τ²)∫ exp((1+τ²)(λ−λ_t))·ℓ_k(λ) dλ.
func TestSACoeffsMatchQuadrature(t *testing.T) {
	t.Parallel()
	lambdas := []float64{-1.9, -1.2, -0.7, -0.3}
	ls, lt := -0.3, 0.2
	for _, tau := range []float64{0, 1} {
		for n := 1; n <= 4; n++ {
			nodes := lambdas[4-n:]
			b := saCoeffs(math.Exp(-lt), nodes, ls, lt, tau) // α_t = σ_t·e^{λ_t} = 1
			mul := 1 + tau*tau
			for k := range nodes {
				f := func(l float64) float64 {
					p := 1.0
					for j := range nodes {
						if j != k {
							p *= (l - nodes[j]) / (nodes[k] - nodes[j])
						}
					}
					return mul * math.Exp(mul*(l-lt)) * p
				}
				const m = 2000
				hh := (lt - ls) / m
				q := f(ls) + f(lt)
				for i := 1; i < m; i++ {
					w := 2.0
					if i%2 == 1 {
						w = 4
					}
					q += w * f(ls+float64(i)*hh)
				}
				q *= hh / 3
				if math.Abs(b[k]-q) > 1e-9 {
					t.Fatalf("τ=%v n=%d k=%d: %.12g vs quadrature %.12g", tau, n, k, b[k], q)
				}
			}
		}
	}
}
