package sampling

import (
	"math"
	"slices"
	"testing"
)

func f32(v float64) float64 { return float64(float32(v)) }

func TestDefaultTable(t *testing.T) {
	t.Parallel()
	tab := DefaultTable()
	if len(tab) != 1000 {
		t.Fatalf("len = %d", len(tab))
	}
	// ComfyUI's float64 table: σ_min = 0.0291671585, σ_max = 14.6146412
	// (comfyui-api.md §7: ≈ 0.029167 and ≈ 14.614641). The 0.0291675 and
	// 14.614642 of KarrasScheduler's defaults are k-diffusion's float32-ᾱ
	// table.
	if tab[0] != f32(0.0291671585) || tab[999] != f32(14.6146412) {
		t.Fatalf("σ_min, σ_max = %.9g, %.9g; want 0.0291671585, 14.6146412", tab[0], tab[999])
	}
	// Independent evaluation: the closed form ᾱ_i = Π(1−β_k) with the betas
	// from a plain (one-ended) linspace agrees to float32 rounding.
	cum := 1.0
	for i := 0; i < 1000; i++ {
		b := math.Sqrt(0.00085) + float64(i)*(math.Sqrt(0.012)-math.Sqrt(0.00085))/999
		cum *= 1 - b*b
		want := math.Sqrt((1 - cum) / cum)
		if math.Abs(tab[i]-want) > 1e-7*want {
			t.Fatalf("table[%d] = %.9g, float64 formula gives %.9g", i, tab[i], want)
		}
		if i > 0 && !(tab[i] > tab[i-1]) {
			t.Fatalf("table not ascending at %d", i)
		}
	}
}

func mustSchedule(t *testing.T, name string, steps int) []float64 {
	t.Helper()
	s, err := Schedule(name, DefaultTable(), steps)
	if err != nil {
		t.Fatalf("Schedule(%s, %d): %v", name, steps, err)
	}
	return s
}

func TestSchedulerNamesOrder(t *testing.T) {
	t.Parallel()
	want := []string{"simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal"}
	if got := SchedulerNames(); !slices.Equal(got, want) {
		t.Fatalf("SchedulerNames() = %v, want %v", got, want)
	}
}

func TestSchedulesGeneral(t *testing.T) {
	t.Parallel()
	tab := DefaultTable()
	for _, name := range SchedulerNames() {
		for _, steps := range []int{1, 2, 7, 20, 30} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := mustSchedule(t, name, steps)
				if s[len(s)-1] != 0 {
					t.Fatalf("last sigma %g, want 0", s[len(s)-1])
				}
				for i := 1; i < len(s); i++ {
					if !(s[i] < s[i-1]) {
						t.Fatalf("steps=%d: not decreasing at %d: %v", steps, i, s)
					}
				}
				for i, v := range s {
					if v != f32(v) {
						t.Fatalf("sigma %d = %v is not a float32 value", i, v)
					}
				}
				if s[0] > f32(tab[999])*(1+1e-6) {
					t.Fatalf("first sigma %g above σ_max", s[0])
				}
				if name != "ddim_uniform" && name != "beta" && len(s) != steps+1 {
					t.Fatalf("steps=%d: %d sigmas, want %d", steps, len(s), steps+1)
				}
			})
		}
	}
}

func TestScheduleValues(t *testing.T) {
	t.Parallel()
	tab := DefaultTable()
	sMin, sMax := tab[0], tab[999]
	tests := []struct {
		name  string
		sched string
		steps int
		check func(t *testing.T, s []float64)
	}{
		{"karras endpoints", "karras", 10, func(t *testing.T, s []float64) {
			if s[0] != f32(sMax) || s[9] != f32(sMin) {
				t.Fatalf("endpoints %v, %v; want σ_max %v, σ_min %v", s[0], s[9], sMax, sMin)
			}
			// ρ = 7: σ^{1/7} is linear in k.
			r := func(k int) float64 { return math.Pow(s[k], 1.0/7) }
			for k := 1; k < 9; k++ {
				if math.Abs((r(k+1)-r(k))-(r(k)-r(k-1))) > 1e-6 {
					t.Fatalf("σ^(1/7) not evenly spaced at %d", k)
				}
			}
		}},
		{"exponential is geometric", "exponential", 8, func(t *testing.T, s []float64) {
			if s[0] != f32(sMax) || s[7] != f32(sMin) {
				t.Fatalf("endpoints %v, %v", s[0], s[7])
			}
			q := s[1] / s[0]
			for k := 1; k < 7; k++ {
				if math.Abs(s[k+1]/s[k]-q) > 1e-6 {
					t.Fatalf("ratio %d = %v, want %v", k, s[k+1]/s[k], q)
				}
			}
		}},
		{"simple picks table entries", "simple", 10, func(t *testing.T, s []float64) {
			for k := 0; k < 10; k++ {
				if s[k] != tab[999-100*k] {
					t.Fatalf("s[%d] = %v, want table[%d] = %v", k, s[k], 999-100*k, tab[999-100*k])
				}
			}
		}},
		{"simple with non-dividing steps", "simple", 3, func(t *testing.T, s []float64) {
			// ss = 1000/3: indices 999, 999−333, 999−666.
			want := []float64{tab[999], tab[666], tab[333], 0}
			if !slices.Equal(s, want) {
				t.Fatalf("got %v, want %v", s, want)
			}
		}},
		{"ddim_uniform N=30 gives 31 steps", "ddim_uniform", 30, func(t *testing.T, s []float64) {
			if len(s) != 32 {
				t.Fatalf("%d sigmas, want 32", len(s))
			}
			if s[0] != tab[991] || s[30] != tab[1] {
				t.Fatalf("s[0] = %v want table[991]; s[30] = %v want table[1]", s[0], s[30])
			}
		}},
		{"ddim_uniform N=10", "ddim_uniform", 10, func(t *testing.T, s []float64) {
			for k := 0; k < 10; k++ {
				if s[k] != tab[901-100*k] {
					t.Fatalf("s[%d] = %v, want table[%d]", k, s[k], 901-100*k)
				}
			}
		}},
		{"normal spans the table", "normal", 5, func(t *testing.T, s []float64) {
			// timesteps linspace(999, 0, 5) = 999, 749.25, 499.5, 249.75, 0.
			want := []float64{tab[999], sigmaAt(tab, 749.25), sigmaAt(tab, 499.5), sigmaAt(tab, 249.75), tab[0], 0}
			for k := range want {
				if math.Abs(s[k]-want[k]) > 1e-6*want[k] {
					t.Fatalf("s[%d] = %v, want %v", k, s[k], want[k])
				}
			}
			// log-linear interpolation between neighbours.
			mid := math.Exp(0.75*math.Log(tab[749]) + 0.25*math.Log(tab[750]))
			if math.Abs(s[1]-mid) > 1e-6*mid {
				t.Fatalf("s[1] = %v, want %v", s[1], mid)
			}
		}},
		{"sgm_uniform drops the endpoint", "sgm_uniform", 4, func(t *testing.T, s []float64) {
			// linspace(999, 0, 5)[:4] = 999, 749.25, 499.5, 249.75.
			if s[0] != f32(tab[999]) || math.Abs(s[3]-sigmaAt(tab, 249.75)) > 1e-6 {
				t.Fatalf("got %v", s)
			}
		}},
		{"beta uses the Beta(0.6,0.6) quantiles", "beta", 4, func(t *testing.T, s []float64) {
			// p = 1, 0.75, 0.5, 0.25; ppf(0.5) = 0.5 by symmetry → rint(499.5) = 500 (half to even).
			if s[0] != tab[999] || s[2] != tab[500] {
				t.Fatalf("s[0] = %v (want table[999]), s[2] = %v (want table[500])", s[0], s[2])
			}
			lo := int(math.RoundToEven(BetaPPF(0.25, 0.6, 0.6) * 999))
			hi := int(math.RoundToEven(BetaPPF(0.75, 0.6, 0.6) * 999))
			if lo+hi != 999 || s[1] != tab[hi] || s[3] != tab[lo] {
				t.Fatalf("quartile timesteps %d, %d not symmetric or not used", lo, hi)
			}
		}},
		{"beta drops duplicate timesteps", "beta", 500, func(t *testing.T, s []float64) {
			if len(s) >= 501 {
				t.Fatalf("%d sigmas: no duplicates dropped", len(s))
			}
		}},
		{"linear_quadratic", "linear_quadratic", 10, func(t *testing.T, s []float64) {
			// first N/2 = 5 values: 1 − i·0.025/5 times σ_max.
			for i := 0; i < 5; i++ {
				want := f32(float64(float32(1-float64(i)*0.005)) * f32(sMax))
				if s[i] != want {
					t.Fatalf("s[%d] = %v, want %v", i, s[i], want)
				}
			}
		}},
		{"kl_optimal endpoints", "kl_optimal", 6, func(t *testing.T, s []float64) {
			if math.Abs(s[0]-sMax) > 1e-5 || math.Abs(s[5]-sMin) > 1e-7 {
				t.Fatalf("endpoints %v, %v", s[0], s[5])
			}
			// atan σ is linear in k.
			a := func(k int) float64 { return math.Atan(s[k]) }
			if math.Abs((a(2)-a(1))-(a(1)-a(0))) > 1e-6 {
				t.Fatal("atan σ not evenly spaced")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, mustSchedule(t, tc.sched, tc.steps))
		})
	}
}

func TestBetaPPF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b float64
		ppf  func(p float64) float64 // closed form
	}{
		{"uniform", 1, 1, func(p float64) float64 { return p }},
		{"arcsine", 0.5, 0.5, func(p float64) float64 { s := math.Sin(math.Pi * p / 2); return s * s }},
		{"Beta(2,1)", 2, 1, math.Sqrt},
		{"Beta(1,2)", 1, 2, func(p float64) float64 { return 1 - math.Sqrt(1-p) }},
		{"Beta(1,3)", 1, 3, func(p float64) float64 { return 1 - math.Cbrt(1-p) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range []float64{1e-9, 0.001, 0.1, 0.25, 0.5, 0.7, 0.9, 0.999} {
				got, want := BetaPPF(p, tc.a, tc.b), tc.ppf(p)
				if math.Abs(got-want) > 1e-13+1e-12*want {
					t.Fatalf("ppf(%v) = %.17g, want %.17g", p, got, want)
				}
			}
		})
	}
	// Beta(0.6, 0.6): invert a CDF computed independently by Simpson's rule
	// after x = w^(5/3), which removes the x^−0.4 singularity: the
	// integrand becomes (5/3)·(1 − w^(5/3))^−0.4 / B on [0, x^0.6].
	t.Run("Beta(0.6,0.6) vs quadrature", func(t *testing.T) {
		t.Parallel()
		la, _ := math.Lgamma(0.6)
		lab, _ := math.Lgamma(1.2)
		bfn := math.Exp(2*la - lab)
		cdf := func(x float64) float64 {
			th := math.Pow(x, 0.6)
			const n = 20000
			h := th / n
			f := func(w float64) float64 { return 5.0 / 3 * math.Pow(1-math.Pow(w, 5.0/3), -0.4) }
			s := f(0) + f(th)
			for i := 1; i < n; i++ {
				w := 2.0
				if i%2 == 1 {
					w = 4
				}
				s += w * f(float64(i)*h)
			}
			return s * h / 3 / bfn
		}
		for _, x := range []float64{0.01, 0.1, 0.3, 0.5, 0.8, 0.9} {
			p := cdf(x)
			if got := BetaPPF(p, 0.6, 0.6); math.Abs(got-x) > 1e-9 {
				t.Fatalf("ppf(cdf(%v)) = %.12g", x, got)
			}
		}
		if got := BetaPPF(0.5, 0.6, 0.6); math.Abs(got-0.5) > 1e-15 {
			t.Fatalf("median = %.17g, want 0.5", got)
		}
	})
}

func TestKSamplerSigmas(t *testing.T) {
	t.Parallel()
	tab := DefaultTable()
	full20 := mustSchedule(t, "karras", 20)
	full11 := mustSchedule(t, "karras", 11)
	tests := []struct {
		name    string
		sampler string
		steps   int
		denoise float64
		want    []float64
	}{
		{"full denoise", "euler", 10, 1, mustSchedule(t, "karras", 10)},
		{"denoise 0.99995 counts as full", "euler", 10, 0.99995, mustSchedule(t, "karras", 10)},
		{"denoise 0.5: last 11 of 20", "euler", 10, 0.5, full20[10:]},
		{"denoise 0 is empty", "euler", 10, 0, []float64{}},
		{"dpm_2 drops the penultimate", "dpm_2", 10, 1, append(append([]float64(nil), full11[:10]...), 0)},
		{"uni_pc drops the penultimate", "uni_pc", 10, 1, append(append([]float64(nil), full11[:10]...), 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := KSamplerSigmas(tab, "karras", tc.sampler, tc.steps, tc.denoise)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
	if _, err := KSamplerSigmas(tab, "nope", "euler", 10, 1); err == nil {
		t.Fatal("unknown scheduler: want an error")
	}
	b, err := BasicSchedulerSigmas(tab, "karras", 10, 0.5)
	if err != nil || !slices.Equal(b, full20[10:]) {
		t.Fatalf("BasicSchedulerSigmas = %v, %v", b, err)
	}
}

func TestStepRange(t *testing.T) {
	t.Parallel()
	s := []float64{10, 5, 2, 1, 0}
	tests := []struct {
		name        string
		start, last int
		force       bool
		want        []float64
		skip        bool
	}{
		{"whole", 0, 10000, true, []float64{10, 5, 2, 1, 0}, false},
		{"end early, leftover noise", 0, 2, false, []float64{10, 5, 2}, false},
		{"end early, full denoise", 0, 2, true, []float64{10, 5, 0}, false},
		{"start later", 2, 10000, true, []float64{2, 1, 0}, false},
		{"start and end", 1, 3, false, []float64{5, 2, 1}, false},
		{"start at the step count", 4, 10000, true, nil, true},
		{"not given", -1, -1, false, []float64{10, 5, 2, 1, 0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, skip := StepRange(s, tc.start, tc.last, tc.force)
			if skip != tc.skip || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v, %v", got, skip, tc.want, tc.skip)
			}
		})
	}
	if s[2] != 2 {
		t.Fatal("StepRange modified its input")
	}
}

// docs.comfy.org (the custom-sampling tutorial, "Sigmas") prints the
// normal scheduler, 20 steps, denoise 1, for an SDXL model (the same
// discrete table as SD1.x) to 4 decimals.
func TestNormalScheduleMatchesComfyDocs(t *testing.T) {
	t.Parallel()
	want := []float64{14.6146, 10.7468, 8.0815, 6.2049, 4.8557, 3.8654, 3.1238, 2.5572, 2.1157, 1.7648,
		1.4806, 1.2458, 1.0481, 0.8784, 0.7297, 0.5964, 0.4736, 0.3555, 0.2322, 0.0292, 0.0000}
	got := mustSchedule(t, "normal", 20)
	if len(got) != len(want) {
		t.Fatalf("%d sigmas, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 0.00005 {
			t.Fatalf("sigma %d = %.6f, ComfyUI prints %.4f", i, got[i], want[i])
		}
	}
}
