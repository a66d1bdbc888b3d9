package sampling

import (
	"context"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// The samplers of this file follow comfy/k_diffusion/sampling.py (after
// Karras et al. 2022 and Katherine Crowson's k-diffusion) with their
// default options: s_churn = 0 (no churn noise), eta = 1 and s_noise = 1
// for ancestral ones.

// sampleEuler is sample_euler (and ddim, which ComfyUI runs as euler):
// x ← x + d·(σ_{i+1} − σ_i).
func sampleEuler(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dt := sigmas[i+1] - sigmas[i]
		x = comb(term{1, x}, term{dt / sigmas[i], x}, term{-dt / sigmas[i], den})
		return x, nil
	})
}

// sampleEulerAncestral is sample_euler_ancestral: a step to σ_down plus
// fresh noise of size σ_up; the final step (σ_down = 0) returns D.
func sampleEulerAncestral(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		down, up := ancestralStep(sigmas[i], sigmas[i+1], 1)
		if down == 0 {
			x = den.Clone()
		} else {
			dt := down - sigmas[i]
			x = comb(term{1 + dt/sigmas[i], x}, term{-dt / sigmas[i], den}, term{up, noise(sigmas[i], sigmas[i+1])})
		}
		return x, nil
	})
}

// sampleHeun is sample_heun: Heun's second-order method, Euler on the
// final step into σ = 0.
func sampleHeun(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dv := toD(x, den, sigmas[i])
		dt := sigmas[i+1] - sigmas[i]
		if sigmas[i+1] == 0 {
			x = comb(term{1, x}, term{dt, dv})
		} else {
			x2 := comb(term{1, x}, term{dt, dv})
			den2, err := d(ctx, x2, sigmas[i+1])
			if err != nil {
				return nil, err
			}
			d2 := toD(x2, den2, sigmas[i+1])
			x = comb(term{1, x}, term{dt / 2, dv}, term{dt / 2, d2})
		}
		return x, nil
	})
}

// sampleHeunpp2 is sample_heunpp2 (Heun++ from sd-webui-samplers-scheduler):
// a third-order weighted average of slopes at σ_i, σ_{i+1}, σ_{i+2}, Heun
// on the second-to-last step and Euler on the last.
func sampleHeunpp2(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	end := sigmas[len(sigmas)-1]
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dv := toD(x, den, sigmas[i])
		dt := sigmas[i+1] - sigmas[i]
		switch {
		case sigmas[i+1] == end:
			x = comb(term{1, x}, term{dt, dv})
		case sigmas[i+2] == end:
			x2 := comb(term{1, x}, term{dt, dv})
			den2, err := d(ctx, x2, sigmas[i+1])
			if err != nil {
				return nil, err
			}
			d2 := toD(x2, den2, sigmas[i+1])
			w2 := sigmas[i+1] / (2 * sigmas[0])
			w1 := 1 - w2
			x = comb(term{1, x}, term{dt * w1, dv}, term{dt * w2, d2})
		default:
			x2 := comb(term{1, x}, term{dt, dv})
			den2, err := d(ctx, x2, sigmas[i+1])
			if err != nil {
				return nil, err
			}
			d2 := toD(x2, den2, sigmas[i+1])
			x3 := comb(term{1, x2}, term{sigmas[i+2] - sigmas[i+1], d2})
			den3, err := d(ctx, x3, sigmas[i+2])
			if err != nil {
				return nil, err
			}
			d3 := toD(x3, den3, sigmas[i+2])
			w := 3 * sigmas[0]
			w2, w3 := sigmas[i+1]/w, sigmas[i+2]/w
			w1 := 1 - w2 - w3
			x = comb(term{1, x}, term{dt * w1, dv}, term{dt * w2, d2}, term{dt * w3, d3})
		}
		return x, nil
	})
}

// logMid is exp(lerp(ln a, ln b, ½)), the geometric midpoint.
func logMid(a, b float64) float64 { return pmath.Exp(0.5 * (pmath.Log(a) + pmath.Log(b))) }

// sampleDPM2 is sample_dpm_2 (DPM-Solver-2 in σ, Karras et al. Alg. 2
// variant): the slope at the geometric midpoint; Euler on the last step.
func sampleDPM2(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		dv := toD(x, den, sigmas[i])
		if sigmas[i+1] == 0 {
			x = comb(term{1, x}, term{sigmas[i+1] - sigmas[i], dv})
		} else {
			mid := logMid(sigmas[i], sigmas[i+1])
			x2 := comb(term{1, x}, term{mid - sigmas[i], dv})
			den2, err := d(ctx, x2, mid)
			if err != nil {
				return nil, err
			}
			d2 := toD(x2, den2, mid)
			x = comb(term{1, x}, term{sigmas[i+1] - sigmas[i], d2})
		}
		return x, nil
	})
}

// sampleDPM2Ancestral is sample_dpm_2_ancestral: DPM-2 to σ_down, then
// fresh noise of size σ_up.
func sampleDPM2Ancestral(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		down, up := ancestralStep(sigmas[i], sigmas[i+1], 1)
		dv := toD(x, den, sigmas[i])
		if down == 0 {
			x = comb(term{1, x}, term{down - sigmas[i], dv})
		} else {
			mid := logMid(sigmas[i], down)
			x2 := comb(term{1, x}, term{mid - sigmas[i], dv})
			den2, err := d(ctx, x2, mid)
			if err != nil {
				return nil, err
			}
			d2 := toD(x2, den2, mid)
			x = comb(term{1, x}, term{down - sigmas[i], d2}, term{up, noise(sigmas[i], sigmas[i+1])})
		}
		return x, nil
	})
}

// sampleLMS is sample_lms (order 4): x ← x + Σ_j c_j·d_{i−j}, where c_j is
// the integral over [σ_i, σ_{i+1}] of the Lagrange basis polynomial of node
// σ_{i−j} over the last cur_order sigmas. ComfyUI integrates with
// scipy.integrate.quad (epsrel 1e−4); quad's 21-point Gauss–Kronrod rule is
// exact for these polynomials (degree ≤ 3), so the closed-form integral
// used here agrees with it to rounding. The last step (into 0) returns D.
func sampleLMS(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const order = 4
	var ds []*node.Tensor
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		ds = append(ds, toD(x, den, sigmas[i]))
		if len(ds) > order {
			ds = ds[1:]
		}
		if sigmas[i+1] == 0 {
			x = den.Clone()
		} else {
			cur := min(i+1, order)
			terms := []term{{1, x}}
			for j := 0; j < cur; j++ {
				terms = append(terms, term{lmsCoeff(cur, sigmas, i, j), ds[len(ds)-1-j]})
			}
			x = comb(terms...)
		}
		return x, nil
	})
}

// lmsCoeff is linear_multistep_coeff in closed form: ∫_{t_i}^{t_{i+1}}
// Π_{k≠j} (τ − t_{i−k})/(t_{i−j} − t_{i−k}) dτ, integrating the expanded
// polynomial exactly.
func lmsCoeff(order int, t []float64, i, j int) float64 {
	poly := []float64{1} // coefficients, lowest degree first
	for k := 0; k < order; k++ {
		if k == j {
			continue
		}
		den := t[i-j] - t[i-k]
		next := make([]float64, len(poly)+1)
		for p, c := range poly {
			next[p+1] += c / den
			next[p] -= c * t[i-k] / den
		}
		poly = next
	}
	a, b := t[i], t[i+1]
	var s float64
	for p := len(poly) - 1; p >= 0; p-- {
		e := float64(p + 1)
		s += poly[p] * (pmath.Pow(b, e) - pmath.Pow(a, e)) / e
	}
	return s
}
