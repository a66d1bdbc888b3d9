package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// sampleDEIS is sample_deis (Zhang & Chen 2023, DEIS; ComfyUI's "tab"
// variant from zju-pi/diff-sampler, max order 3): a multistep method whose
// coefficients integrate the Lagrange basis over the previous nodes against
// dσ/dτ, in the time τ of a VP schedule fitted to EDM's σ ∈ [0.002, 80]
// (ε_s = 1e−3), with a 10000-point Riemann sum as ComfyUI. The first step and
// the step into σ = 0 are Euler.
func sampleDEIS(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const maxOrder = 3
	coeffs := deisCoefficients(sigmas, maxOrder)
	var buf []*node.Tensor // previous slopes, oldest first
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dCur := toD(x, den, sigmas[i])
		order := min(maxOrder, i+1)
		if sigmas[i+1] <= 0 {
			order = 1
		}
		if order == 1 {
			x = comb(term{1, x}, term{sigmas[i+1] - sigmas[i], dCur})
		} else {
			c := coeffs[i]
			terms := []term{{1, x}, {c[0], dCur}}
			for k := 1; k < order; k++ {
				terms = append(terms, term{c[k], buf[len(buf)-k]})
			}
			x = comb(terms...)
		}
		buf = append(buf, dCur)
		if len(buf) > maxOrder-1 {
			buf = buf[1:]
		}
		return x, nil
	})
}

// deisCoefficients is get_deis_coeff_list(deis_mode="tab", N=10000).
func deisCoefficients(sigmas []float64, maxOrder int) [][]float64 {
	const (
		epsS = 1e-3
		sMin = 0.002
		sMax = 80.0
		N    = 10000
	)
	// edm2t: the VP schedule σ(τ) = sqrt(exp(½β_d τ² + β_min τ) − 1).
	betaD := 2 * (pmath.Log(sMin*sMin+1)/epsS - pmath.Log(sMax*sMax+1)) / (epsS - 1)
	betaMin := pmath.Log(sMax*sMax+1) - float64(0.5*betaD)
	ts := make([]float64, len(sigmas))
	for i, s := range sigmas {
		ts[i] = (math.Sqrt(float64(betaMin*betaMin)+float64(2*betaD*pmath.Log(float64(s*s)+1))) - betaMin) / betaD
	}
	// dσ/dτ = ½·(β_d τ + β_min)/sqrt(α(1−α)), α = exp(−½β_d τ² − β_min τ).
	integrand := func(tau float64) float64 {
		alpha := pmath.Exp(float64(-0.5*tau*tau*betaD) - float64(tau*betaMin))
		return 0.5 * (float64(tau*betaD) + betaMin) / math.Sqrt(alpha*(1-alpha))
	}
	out := make([][]float64, len(ts)-1)
	for i := 0; i+1 < len(ts); i++ {
		order := min(i+1, maxOrder)
		if order == 1 {
			continue
		}
		tCur, tNext := ts[i], ts[i+1]
		taus := linspace(tCur, tNext, N)
		dtau := (tNext - tCur) / N
		prev := make([]float64, order)
		for k := range prev {
			prev[k] = ts[i-k]
		}
		c := make([]float64, order)
		for j := 0; j < order; j++ {
			var sum float64
			for _, tau := range taus {
				p := 1.0
				for k := 0; k < order; k++ {
					if k != j {
						p *= (tau - prev[k]) / (prev[j] - prev[k])
					}
				}
				sum += float64(integrand(tau) * p)
			}
			c[j] = sum * dtau
		}
		out[i] = c
	}
	return out
}
