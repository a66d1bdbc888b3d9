package sampling

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// PolyexponentialSigmas is get_sigmas_polyexponential: log σ interpolated
// with ramp^ρ from σ_max to σ_min (n values), then 0.
func PolyexponentialSigmas(n int, sMin, sMax, rho float64) []float64 {
	out := make([]float64, 0, n+1)
	for _, r := range linspace(1, 0, n) {
		out = append(out, pmath.Exp(float64(pmath.Pow(r, rho)*(pmath.Log(sMax)-pmath.Log(sMin)))+pmath.Log(sMin)))
	}
	return toFloat32s(append(out, 0))
}

// ExponentialSigmas is get_sigmas_exponential (n values, then 0).
func ExponentialSigmas(n int, sMin, sMax float64) []float64 {
	return toFloat32s(exponentialSigmas(n, sMin, sMax))
}

// LaplaceSigmas is get_sigmas_laplace (Tiankai et al. 2024): n values
// exp(μ − β·sign(½−x)·ln(1 − 2|½−x| + 1e−5)) for x = linspace(0, 1, n),
// clamped to [σ_min, σ_max]. As in ComfyUI no final 0 is appended.
func LaplaceSigmas(n int, sMin, sMax, mu, beta float64) []float64 {
	out := make([]float64, 0, n)
	for _, x := range linspace(0, 1, n) {
		sign := 0.0
		switch {
		case 0.5-x > 0:
			sign = 1
		case 0.5-x < 0:
			sign = -1
		}
		l := mu - float64(beta*sign*pmath.Log(1-2*math.Abs(0.5-x)+1e-5))
		out = append(out, math.Min(math.Max(pmath.Exp(l), sMin), sMax))
	}
	return toFloat32s(out)
}

// VPSigmas is get_sigmas_vp: sqrt(expm1(β_d t²/2 + β_min t)) for t =
// linspace(1, ε_s, n), then 0.
func VPSigmas(n int, betaD, betaMin, epsS float64) []float64 {
	out := make([]float64, 0, n+1)
	for _, t := range linspace(1, epsS, n) {
		out = append(out, math.Sqrt(pmath.Expm1(float64(betaD*t*t/2)+float64(betaMin*t))))
	}
	return toFloat32s(append(out, 0))
}

// BetaSigmas is beta_scheduler with explicit α, β (BetaSamplingScheduler).
func BetaSigmas(table []float64, steps int, alpha, beta float64) []float64 {
	return toFloat32s(betaSchedule(table, steps, alpha, beta))
}

// SDTurboSigmas is SDTurboScheduler: the table entries at timesteps 999,
// 899, …, 99 starting at 10 − int(10·denoise), steps of them, then 0.
func SDTurboSigmas(table []float64, steps int, denoise float64) []float64 {
	start := 10 - int(10*denoise)
	var out []float64
	for k := start; k < start+steps && k < 10; k++ {
		t := 999 - 100*k
		if t < len(table) {
			out = append(out, table[t])
		}
	}
	return append(out, 0)
}
