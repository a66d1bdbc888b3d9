package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// The DPM-Solver++ family (Lu et al. 2022) in k-diffusion's form, with
// t = λ = −ln σ for EPS models.

func tOf(sigma float64) float64  { return -pmath.Log(sigma) }
func sigmaOfT(t float64) float64 { return pmath.Exp(-t) }

// sampleDPMpp2SAncestral is sample_dpmpp_2s_ancestral: a second-order
// single-step update to σ_down through the midpoint in λ, then noise σ_up.
func sampleDPMpp2SAncestral(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		down, up := ancestralStep(sigmas[i], sigmas[i+1], 1)
		if down == 0 {
			dt := down - sigmas[i]
			x = comb(term{1 + dt/sigmas[i], x}, term{-dt / sigmas[i], den})
		} else {
			t, tNext := tOf(sigmas[i]), tOf(down)
			h := tNext - t
			s := t + float64(0.5*h)
			x2 := comb(term{sigmaOfT(s) / sigmaOfT(t), x}, term{-pmath.Expm1(-0.5 * h), den})
			den2, err := d(ctx, x2, sigmaOfT(s))
			if err != nil {
				return nil, err
			}
			x = comb(term{sigmaOfT(tNext) / sigmaOfT(t), x}, term{-pmath.Expm1(-h), den2})
		}
		if sigmas[i+1] > 0 {
			x = comb(term{1, x}, term{up, noise(sigmas[i], sigmas[i+1])})
		}
		return x, nil
	})
}

// sampleDPMppSDE is sample_dpmpp_sde (r = ½, η = 1): an ancestral
// half-step to the λ-midpoint with Brownian noise, a second evaluation
// there, and the full step with D_d = D₂ and Brownian noise again. The
// final step into σ = 0 returns D.
func sampleDPMppSDE(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const r = 0.5
	noise := brownianNoiseSampler(x, sigmas, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			t, tNext := tOf(sigmas[i]), tOf(sigmas[i+1])
			h := tNext - t
			s := t + float64(h*r)
			fac := 1 / (2 * r)
			// Step 1: to the midpoint.
			sd, su := ancestralStep(sigmaOfT(t), sigmaOfT(s), 1)
			s_ := tOf(sd)
			x2 := comb(term{sigmaOfT(s_) / sigmaOfT(t), x}, term{-pmath.Expm1(t - s_), den},
				term{su, noise(sigmaOfT(t), sigmaOfT(s))})
			den2, err := d(ctx, x2, sigmaOfT(s))
			if err != nil {
				return nil, err
			}
			// Step 2: the full step.
			sd, su = ancestralStep(sigmaOfT(t), sigmaOfT(tNext), 1)
			tn := tOf(sd)
			dd := comb(term{1 - fac, den}, term{fac, den2})
			x = comb(term{sigmaOfT(tn) / sigmaOfT(t), x}, term{-pmath.Expm1(t - tn), dd},
				term{su, noise(sigmaOfT(t), sigmaOfT(tNext))})
		}
		return x, nil
	})
}

// sampleDPMpp2M is sample_dpmpp_2m: the multistep second-order solver; the
// first step and the step into σ = 0 are first order.
func sampleDPMpp2M(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	var old *node.Tensor
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			t, tNext := tOf(sigmas[i]), tOf(sigmas[i+1])
			h := tNext - t
			ratio := sigmas[i+1] / sigmas[i]
			if old == nil {
				x = comb(term{ratio, x}, term{-pmath.Expm1(-h), den})
			} else {
				hLast := t - tOf(sigmas[i-1])
				r := hLast / h
				c := -pmath.Expm1(-h)
				x = comb(term{ratio, x}, term{c * (1 + 1/(2*r)), den}, term{-c / (2 * r), old})
			}
		}
		old = den
		return x, nil
	})
}

// sampleDPMpp2MSDE returns sample_dpmpp_2m_sde (η = 1) with the midpoint
// or (heun) the Heun second-order correction, and Brownian noise.
func sampleDPMpp2MSDE(heun bool) samplerFunc {
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		const eta = 1.0
		noise := brownianNoiseSampler(x, sigmas, o.Seed)
		var old *node.Tensor
		var hLast float64
		return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
			var h float64
			if sigmas[i+1] == 0 {
				x = den.Clone()
			} else {
				t, s := tOf(sigmas[i]), tOf(sigmas[i+1])
				h = s - t
				etaH := eta * h
				a := sigmas[i+1] / sigmas[i] * pmath.Exp(-etaH)
				b := -pmath.Expm1(-h - etaH)
				terms := []term{{a, x}, {b, den}}
				if old != nil {
					r := hLast / h
					var c float64
					if heun {
						c = (b/(-h-etaH) + 1) / r
					} else {
						c = 0.5 * b / r
					}
					terms = append(terms, term{c, den}, term{-c, old})
				}
				terms = append(terms, term{sigmas[i+1] * math.Sqrt(-pmath.Expm1(-2*etaH)), noise(sigmas[i], sigmas[i+1])})
				x = comb(terms...)
			}
			old, hLast = den, h
			return x, nil
		})
	}
}

// sampleDPMpp3MSDE is sample_dpmpp_3m_sde (η = 1): third-order multistep
// with φ₂, φ₃ corrections and Brownian noise.
func sampleDPMpp3MSDE(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const eta = 1.0
	noise := brownianNoiseSampler(x, sigmas, o.Seed)
	var den1, den2 *node.Tensor
	var h, h1, h2 float64
	have1, have2 := false, false
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		hValid := false
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			t, s := tOf(sigmas[i]), tOf(sigmas[i+1])
			h = s - t
			hValid = true
			hEta := h * (eta + 1)
			terms := []term{{pmath.Exp(-hEta), x}, {-pmath.Expm1(-hEta), den}}
			phi2 := pmath.Expm1(-hEta)/hEta + 1
			switch {
			case have2:
				r0, r1 := h1/h, h2/h
				// d1_0 = (D − D1)/r0, d1_1 = (D1 − D2)/r1,
				// d1 = d1_0 + (d1_0 − d1_1)·r0/(r0+r1), d2 = (d1_0 − d1_1)/(r0+r1),
				// x += φ2·d1 − φ3·d2.
				phi3 := phi2/hEta - 0.5
				k := r0 / (r0 + r1)
				cD := float64((1+k)/r0*phi2) - phi3/(r0*(r0+r1))
				cD1 := float64(-(1+k)/r0*phi2) - float64(k/r1*phi2) + phi3/(r0*(r0+r1)) + phi3/(r1*(r0+r1))
				cD2 := float64(k/r1*phi2) - phi3/(r1*(r0+r1))
				terms = append(terms, term{cD, den}, term{cD1, den1}, term{cD2, den2})
			case have1:
				r := h1 / h
				terms = append(terms, term{phi2 / r, den}, term{-phi2 / r, den1})
			}
			terms = append(terms, term{sigmas[i+1] * math.Sqrt(-pmath.Expm1(-2*h*eta)), noise(sigmas[i], sigmas[i+1])})
			x = comb(terms...)
		}
		den1, den2 = den, den1
		h1, h2 = h, h1
		have2 = have1 && hValid
		have1 = hValid
		return x, nil
	})
}

// sampleResMultistep returns res_multistep (η = 0) or
// res_multistep_ancestral (η = 1), optionally CFG++: the second-order RES
// multistep method (Zhang et al. 2023, arXiv 2308.02157) to σ_down, Euler
// on the first and last steps, then noise σ_up.
func sampleResMultistep(eta float64, cfgpp bool) samplerFunc {
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		noise := defaultNoiseSampler(x, o.Seed)
		phi1 := func(t float64) float64 { return pmath.Expm1(t) / t }
		phi2 := func(t float64) float64 { return (phi1(t) - 1) / t }
		var old *node.Tensor
		var oldDown float64
		return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
			var u *node.Tensor
			if cfgpp {
				u = o.uncond()
			}
			down, up := ancestralStep(sigmas[i], sigmas[i+1], eta)
			if down == 0 || old == nil {
				if cfgpp {
					x = comb(term{1, den}, term{down / sigmas[i], x}, term{-down / sigmas[i], u})
				} else {
					dt := down - sigmas[i]
					x = comb(term{1 + dt/sigmas[i], x}, term{-dt / sigmas[i], den})
				}
			} else {
				t, tOld, tNext, tPrev := tOf(sigmas[i]), tOf(oldDown), tOf(down), tOf(sigmas[i-1])
				h := tNext - t
				c2 := (tPrev - tOld) / h
				p1, p2 := phi1(-h), phi2(-h)
				b1, b2 := p1-p2/c2, p2/c2
				if math.IsNaN(b1) {
					b1 = 0
				}
				if math.IsNaN(b2) {
					b2 = 0
				}
				if cfgpp {
					e := pmath.Exp(-h)
					x = comb(term{e, x}, term{e, den}, term{-e + float64(h*b1), u}, term{h * b2, old})
				} else {
					x = comb(term{pmath.Exp(-h), x}, term{h * b1, den}, term{h * b2, old})
				}
			}
			if sigmas[i+1] > 0 {
				nz := noise(sigmas[i], sigmas[i+1])
				if up != 0 {
					x = comb(term{1, x}, term{up, nz})
				}
			}
			if cfgpp {
				old = u
			} else {
				old = den
			}
			oldDown = down
			return x, nil
		})
	}
}
