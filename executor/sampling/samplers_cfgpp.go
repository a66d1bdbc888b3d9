package sampling

import (
	"context"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// CFG++ samplers (Chung et al. 2024, "CFG++: manifold-constrained
// classifier free guidance"): they step along the unconditional prediction
// U and apply the guided D only as the target, as in ComfyUI's *_cfg_pp
// samplers (which read U through a post-CFG hook, with the cfg = 1
// shortcut disabled). For EPS models α = 1 throughout.

// sampleEulerAncestralCFGpp returns sample_euler_ancestral_cfg_pp (η = 1)
// or, with η = 0 and no noise, sample_euler_cfg_pp:
// x ← D + σ_down·(x − U)/σ_i, plus σ_up noise.
func sampleEulerAncestralCFGpp(eta float64) samplerFunc {
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		noise := defaultNoiseSampler(x, o.Seed)
		return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
			u := o.uncond()
			if sigmas[i+1] == 0 {
				x = den.Clone()
			} else {
				down, up := ancestralStep(sigmas[i], sigmas[i+1], eta)
				terms := []term{{1, den}, {down / sigmas[i], x}, {-down / sigmas[i], u}}
				if eta > 0 {
					terms = append(terms, term{up, noise(sigmas[i], sigmas[i+1])})
				}
				x = comb(terms...)
			}
			return x, nil
		})
	}
}

// sampleDPMpp2SAncestralCFGpp is sample_dpmpp_2s_ancestral_cfg_pp: the
// DPM-Solver++(2S) step on U, then noise, then the guidance D − U added.
func sampleDPMpp2SAncestralCFGpp(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		u := o.uncond()
		down, up := ancestralStep(sigmas[i], sigmas[i+1], 1)
		if down == 0 {
			dt := down - sigmas[i]
			x = comb(term{1 + dt/sigmas[i], x}, term{-dt / sigmas[i], u})
		} else {
			t, tNext := tOf(sigmas[i]), tOf(down)
			h := tNext - t
			s := t + float64(0.5*h)
			x2 := comb(term{sigmaOfT(s) / sigmaOfT(t), x}, term{-pmath.Expm1(-0.5 * h), u})
			if _, err := d(ctx, x2, sigmaOfT(s)); err != nil {
				return nil, err
			}
			u2 := o.uncond()
			x = comb(term{sigmaOfT(tNext) / sigmaOfT(t), x}, term{-pmath.Expm1(-h), u2})
		}
		terms := []term{{1, x}, {1, den}, {-1, u}}
		if sigmas[i+1] > 0 {
			terms = append(terms, term{up, noise(sigmas[i], sigmas[i+1])})
		}
		x = comb(terms...)
		return x, nil
	})
}

// sampleDPMpp2MCFGpp is sample_dpmpp_2m_cfg_pp:
// x ← D − e^{−h}·U + e^{−h}·x (first order), with the second-order
// correction −(e^{−h}−1)/(2r)·(D − U_prev) once a previous step exists.
func sampleDPMpp2MCFGpp(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	var oldU *node.Tensor
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		u := o.uncond()
		e := sigmas[i+1] / sigmas[i] // e^{−h}
		if oldU == nil || sigmas[i+1] == 0 {
			x = comb(term{1, den}, term{-e, u}, term{e, x})
		} else {
			h := tOf(sigmas[i+1]) - tOf(sigmas[i])
			r := (tOf(sigmas[i]) - tOf(sigmas[i-1])) / h
			c := -pmath.Expm1(-h) / (2 * r)
			x = comb(term{1, den}, term{-e, u}, term{c, den}, term{-c, oldU}, term{e, x})
		}
		oldU = u
		return x, nil
	})
}

// sampleGradientEstimation returns sample_gradient_estimation (γ = 2; Permenter
// & Yuan 2024): Euler plus (γ−1)·(d − d_prev)·Δσ, optionally CFG++.
func sampleGradientEstimation(cfgpp bool) samplerFunc {
	const gamma = 2.0
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		var oldD *node.Tensor
		return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
			target := den
			if cfgpp {
				target = o.uncond()
			}
			dv := toD(x, target, sigmas[i])
			dt := sigmas[i+1] - sigmas[i]
			if sigmas[i+1] == 0 {
				x = den.Clone()
			} else {
				var terms []term
				if cfgpp {
					terms = []term{{1, den}, {sigmas[i+1], dv}}
				} else {
					terms = []term{{1, x}, {dt, dv}}
				}
				if i >= 1 {
					terms = append(terms, term{(gamma - 1) * dt, dv}, term{-(gamma - 1) * dt, oldD})
				}
				x = comb(terms...)
			}
			oldD = dv
			return x, nil
		})
	}
}

// sampleIPNDMV is sample_ipndm_v: the variable-step form of iPNDM, whose
// Adams–Bashforth coefficients account for unequal steps h_n, h_{n−1}, …
func sampleIPNDMV(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const maxOrder = 4
	t := sigmas
	var buf []*node.Tensor
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dCur := toD(x, den, t[i])
		order := min(maxOrder, i+1)
		hn := t[i+1] - t[i]
		switch {
		case t[i+1] == 0:
			x = den.Clone()
		case order == 1:
			x = comb(term{1, x}, term{hn, dCur})
		case order == 2:
			h1 := t[i] - t[i-1]
			c1 := (2 + hn/h1) / 2
			c2 := -(hn / h1) / 2
			x = comb(term{1, x}, term{hn * c1, dCur}, term{hn * c2, buf[len(buf)-1]})
		case order == 3:
			h1, h2 := t[i]-t[i-1], t[i-1]-t[i-2]
			tmp := float64((1 - hn/(3*(hn+h1))*(hn*(hn+h1))/(h1*(h1+h2))) / 2)
			c1 := float64((2+hn/h1)/2) + tmp
			c2 := float64(-(hn/h1)/2) - float64((1+h1/h2)*tmp)
			c3 := tmp * h1 / h2
			x = comb(term{1, x}, term{hn * c1, dCur}, term{hn * c2, buf[len(buf)-1]}, term{hn * c3, buf[len(buf)-2]})
		default:
			h1, h2, h3 := t[i]-t[i-1], t[i-1]-t[i-2], t[i-2]-t[i-3]
			tmp1 := float64((1 - hn/(3*(hn+h1))*(hn*(hn+h1))/(h1*(h1+h2))) / 2)
			tmp2 := (float64((1-hn/(3*(hn+h1)))/2) + (1-hn/(2*(hn+h1)))*hn/(6*(hn+h1+h2))) *
				(hn * (hn + h1) * (hn + h1 + h2)) / (h1 * (h1 + h2) * (h1 + h2 + h3))
			q := h1 * (h1 + h2) / (h2 * (h2 + h3))
			c1 := float64((2+hn/h1)/2) + tmp1 + tmp2
			c2 := float64(-(hn/h1)/2) - float64((1+h1/h2)*tmp1) - float64((1+h1/h2+q)*tmp2)
			c3 := tmp1*h1/h2 + float64((h1/h2+float64(q*(1+h2/h3)))*tmp2)
			c4 := -tmp2 * q * h1 / h2
			x = comb(term{1, x}, term{hn * c1, dCur}, term{hn * c2, buf[len(buf)-1]},
				term{hn * c3, buf[len(buf)-2]}, term{hn * c4, buf[len(buf)-3]})
		}
		buf = append(buf, dCur)
		if len(buf) > maxOrder-1 {
			buf = buf[1:]
		}
		return x, nil
	})
}
