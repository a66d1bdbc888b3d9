package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// hPhi1 is h·φ1(h) = e^h − 1 and hPhi2 is h·φ2(h) = (e^h − 1 − h)/h, the
// exponential-integrator weights (ei_h_phi_1, ei_h_phi_2).
// hPhi2 rounds h explicitly: callers pass products (hPhi2(-r·h)), which the
// compiler would otherwise fuse into the subtraction after inlining.
func hPhi1(h float64) float64 { return pmath.Expm1(h) }
func hPhi2(h float64) float64 { return (pmath.Expm1(h) - float64(h)) / h }

// sampleSEEDS2 returns sample_seeds_2 (Gonzalez et al. 2023, SEEDS-2, VP
// data prediction) with ratio r and the φ1 or (phi2) φ2 final combination;
// η = 0 makes it deterministic. exp_heun_2_x0 is (η = 0, r = 1, φ2),
// exp_heun_2_x0_sde is (η = 1, r = 1, φ2), seeds_2 is (η = 1, r = ½, φ1).
// Its noise is default_noise_sampler's (seed+1), drawn on every noisy
// sub-step.
func sampleSEEDS2(eta, r float64, phi2 bool) samplerFunc {
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		noise := defaultNoiseSampler(x, o.Seed)
		inject := eta > 0
		fac := 1 / (2 * r)
		return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
			if sigmas[i+1] == 0 {
				x = den.Clone()
			} else {
				ls, lt := tOf(sigmas[i]), tOf(sigmas[i+1])
				h := lt - ls
				hEta := h * (eta + 1)
				s1 := sigmaOfT(ls + float64(r*(lt-ls)))
				x2 := comb(term{s1 / sigmas[i] * pmath.Exp(-r*h*eta), x}, term{-hPhi1(-r * hEta), den})
				var sde *node.Tensor
				if inject {
					sde = comb(term{math.Sqrt(-pmath.Expm1(-2 * r * h * eta)), noise(sigmas[i], s1)})
					x2 = comb(term{1, x2}, term{s1, sde})
				}
				den2, err := d(ctx, x2, s1)
				if err != nil {
					return nil, err
				}
				a := sigmas[i+1] / sigmas[i] * pmath.Exp(-h*eta)
				if phi2 {
					b2 := hPhi2(-hEta) / r
					b1 := hPhi1(-hEta) - b2
					x = comb(term{a, x}, term{-b1, den}, term{-b2, den2})
				} else {
					c := hPhi1(-hEta)
					x = comb(term{a, x}, term{-c * (1 - fac), den}, term{-c * fac, den2})
				}
				if inject {
					seg := float64((r - 1) * h * eta) // 2·seg compiles to seg+seg: keep it unfused
					sde = comb(term{pmath.Exp(seg), sde}, term{math.Sqrt(-pmath.Expm1(2 * seg)), noise(s1, sigmas[i+1])})
					x = comb(term{1, x}, term{sigmas[i+1], sde})
				}
			}
			return x, nil
		})
	}
}

// sampleSEEDS3 is sample_seeds_3 (SEEDS-3, η = 1, r1 = ⅓, r2 = ⅔): three
// evaluations per step with noise carried across the sub-steps.
func sampleSEEDS3(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const eta, r1, r2 = 1.0, 1.0 / 3, 2.0 / 3
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			ls, lt := tOf(sigmas[i]), tOf(sigmas[i+1])
			h := lt - ls
			hEta := h * (eta + 1)
			s1, s2 := sigmaOfT(ls+float64(r1*(lt-ls))), sigmaOfT(ls+float64(r2*(lt-ls)))
			// Step 1.
			x2 := comb(term{s1 / sigmas[i] * pmath.Exp(-r1*h*eta), x}, term{-hPhi1(-r1 * hEta), den})
			sde := comb(term{math.Sqrt(-pmath.Expm1(-2 * r1 * h * eta)), noise(sigmas[i], s1)})
			x2 = comb(term{1, x2}, term{s1, sde})
			den2, err := d(ctx, x2, s1)
			if err != nil {
				return nil, err
			}
			// Step 2.
			a32 := r2 / r1 * hPhi2(-r2*hEta)
			a31 := hPhi1(-r2*hEta) - a32
			x3 := comb(term{s2 / sigmas[i] * pmath.Exp(-r2*h*eta), x}, term{-a31, den}, term{-a32, den2})
			seg := float64((r1 - r2) * h * eta)
			sde = comb(term{pmath.Exp(seg), sde}, term{math.Sqrt(-pmath.Expm1(2 * seg)), noise(s1, s2)})
			x3 = comb(term{1, x3}, term{s2, sde})
			den3, err := d(ctx, x3, s2)
			if err != nil {
				return nil, err
			}
			// Step 3.
			b3 := hPhi2(-hEta) / r2
			b1 := hPhi1(-hEta) - b3
			x = comb(term{sigmas[i+1] / sigmas[i] * pmath.Exp(-h*eta), x}, term{-b1, den}, term{-b3, den3})
			seg = float64((r2 - 1) * h * eta)
			sde = comb(term{pmath.Exp(seg), sde}, term{math.Sqrt(-pmath.Expm1(2 * seg)), noise(s2, sigmas[i+1])})
			x = comb(term{1, x}, term{sigmas[i+1], sde})
		}
		return x, nil
	})
}

// sampleERSDE is sample_er_sde (Cui et al. 2023, ER-SDE-Solver-3, VP form;
// for EPS models λ_er = σ): stage 1 an exponential Euler step with the noise
// scaler s(x) = x·(e^{x^0.3} + 10), stages 2 and 3 finite-difference
// corrections whose integrals are Riemann sums over 200 points, then noise
// sqrt(σ_{i+1}² − σ_i²·r²).
func sampleERSDE(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const maxStage, points = 3, 200
	scaler := func(v float64) float64 { return v * (pmath.Exp(pmath.Pow(v, 0.3)) + 10) }
	noise := defaultNoiseSampler(x, o.Seed)
	var oldD, oldDD *node.Tensor
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		stage := min(maxStage, i+1)
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			ls, lt := sigmas[i], sigmas[i+1]
			r := scaler(lt) / scaler(ls)
			terms := []term{{r, x}, {1 - r, den}}
			if stage >= 2 {
				dt := lt - ls
				step := -dt / points
				var s, su float64
				for k := 0; k < points; k++ {
					pos := lt + float64(float64(k)*step)
					sp := scaler(pos)
					s += 1 / sp
					su += (pos - ls) / sp
				}
				s *= step
				su *= step
				dd := comb(term{1 / (ls - sigmas[i-1]), den}, term{-1 / (ls - sigmas[i-1]), oldD})
				c2 := dt + float64(s*scaler(lt))
				terms = append(terms, term{c2, dd})
				if stage >= 3 {
					k := 2 / (ls - sigmas[i-2])
					c3 := float64(dt*dt/2) + float64(su*scaler(lt))
					terms = append(terms, term{c3 * k, dd}, term{-c3 * k, oldDD})
				}
				oldDD = dd
			}
			amp := math.Sqrt(float64(lt*lt) - float64(ls*ls*r*r))
			if math.IsNaN(amp) {
				amp = 0
			}
			terms = append(terms, term{amp, noise(sigmas[i], sigmas[i+1])})
			x = comb(terms...)
		}
		oldD = den
		return x, nil
	})
}
