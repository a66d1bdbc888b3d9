package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// sampleSASolver returns sample_sa_solver (Xue et al. 2023, SA-Solver:
// stochastic Adams predictor (order 3) and corrector (order 4) in data
// prediction, λ = −ln σ), or with pece the PECE variant that re-evaluates
// the corrected state. Stochasticity τ = 1 for σ between the model's
// percent_to_sigma(0.2) and percent_to_sigma(0.8), else 0; noise from
// default_noise_sampler (seed+1).
func sampleSASolver(pece bool) samplerFunc {
	const predOrder, corrOrder = 3, 4
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		noiseS := defaultNoiseSampler(x, o.Seed)
		table := o.table
		if table == nil {
			table = DefaultTable()
		}
		startSigma := sigmaAt(table, 0.8*999) // percent_to_sigma(0.2)
		endSigma := sigmaAt(table, 0.2*999)   // percent_to_sigma(0.8)
		tau := func(s float64) float64 {
			if startSigma >= s && s >= endSigma {
				return 1
			}
			return 0
		}
		lambdas := make([]float64, len(sigmas))
		for i, s := range sigmas {
			lambdas[i] = tOf(s)
		}
		n := len(sigmas) - 1
		lowerToEnd := sigmas[n] == 0
		xPred := x
		var h, tauT float64
		var noise *node.Tensor
		var preds []*node.Tensor
		for i := 0; i < n; i++ {
			den, err := d(ctx, xPred, sigmas[i])
			if err != nil {
				return nil, err
			}
			preds = append(preds, den)
			if len(preds) > max(predOrder, corrOrder) {
				preds = preds[1:]
			}
			po := min(predOrder, len(preds))
			co := min(corrOrder, len(preds))
			if i == 0 || (sigmas[i+1] == 0 && !pece) {
				co = 0
			}
			if lowerToEnd {
				po = min(po, n-1-i)
				co = min(co, n-i)
			}
			if co == 0 {
				x = xPred
			} else {
				b := saCoeffs(sigmas[i], lambdas[i-co+1:i+1], lambdas[i-1], lambdas[i], tauT)
				terms := []term{{sigmas[i] / sigmas[i-1] * pmath.Exp(-tauT*tauT*h), x}}
				for k, p := range preds[len(preds)-co:] {
					terms = append(terms, term{b[k], p})
				}
				if tauT > 0 {
					terms = append(terms, term{1, noise})
				}
				x = comb(terms...)
				if pece {
					if den, err = d(ctx, x, sigmas[i]); err != nil {
						return nil, err
					}
					preds[len(preds)-1] = den
				}
			}
			if sigmas[i+1] == 0 {
				xPred = den
			} else {
				tauT = tau(sigmas[i+1])
				b := saCoeffs(sigmas[i+1], lambdas[i-po+1:i+1], lambdas[i], lambdas[i+1], tauT)
				h = lambdas[i+1] - lambdas[i]
				terms := []term{{sigmas[i+1] / sigmas[i] * pmath.Exp(-tauT*tauT*h), x}}
				for k, p := range preds[len(preds)-po:] {
					terms = append(terms, term{b[k], p})
				}
				xPred = comb(terms...)
				if tauT > 0 {
					noise = comb(term{sigmas[i+1] * math.Sqrt(-pmath.Expm1(-2*tauT*tauT*h)), noiseS(sigmas[i], sigmas[i+1])})
					xPred = comb(term{1, xPred}, term{1, noise})
				}
			}
			if err := o.step(i, n, xPred, den); err != nil {
				return nil, err
			}
		}
		return xPred, nil
	}
}

// saCoeffs is compute_stochastic_adams_b_coeffs (not the simple order-2
// scheme): the integrals over [λ_s, λ_t] of exp((1+τ²)(λ−λ_t))·ℓ_k(λ) for
// the Lagrange basis ℓ_k on lambdas, times α_t (= 1 for EPS models), found
// by solving the transposed Vandermonde system against the exponential
// moments.
func saCoeffs(sigmaNext float64, lambdas []float64, ls, lt, tau float64) []float64 {
	n := len(lambdas)
	mul := 1 + float64(tau*tau)
	h := lt - ls
	// Moments (1+τ²)∫ exp((1+τ²)(x−λ_t))·x^p dx by parts, p < n.
	prod := make([]float64, n)
	for p := range prod {
		prod[p] = pmath.Pow(lt, float64(p)) - float64(pmath.Pow(ls, float64(p))*pmath.Exp(-mul*h))
	}
	moments := make([]float64, n)
	for p := 0; p < n; p++ {
		lp := pmath.Lgamma(float64(p + 1))
		for q := 0; q <= p; q++ {
			lq := pmath.Lgamma(float64(q + 1))
			c := lp - lq
			if tau > 0 {
				c -= float64(float64(p-q) * pmath.Log(mul))
			}
			v := pmath.Exp(c)
			if (p-q)%2 != 0 {
				v = -v
			}
			moments[p] += float64(v * prod[q])
		}
	}
	vt := make([][]float64, n) // vt[p][k] = λ_k^p
	for p := range vt {
		vt[p] = make([]float64, n)
		for k, l := range lambdas {
			vt[p][k] = pmath.Pow(l, float64(p))
		}
	}
	b := solve(vt, moments)
	alphaT := sigmaNext * pmath.Exp(lt)
	for i := range b {
		b[i] *= alphaT
	}
	return b
}
