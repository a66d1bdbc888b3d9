package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/executor/node"
)

// sampleDDPM is sample_ddpm (generic_step_sampler with DDPMSampler_step):
// the DDPM posterior step (Ho et al. 2020) in variance-preserving
// coordinates, x_vp = x/sqrt(1+σ²), with ᾱ = 1/(1+σ²) and ε = (x−D)/σ.
func sampleDDPM(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		s, sp := sigmas[i], sigmas[i+1]
		ac := 1 / (float64(s*s) + 1)
		acPrev := 1 / (float64(sp*sp) + 1)
		alpha := ac / acPrev
		// mu = sqrt(1/α)·(x_vp − (1−α)·ε/sqrt(1−ᾱ)), ε = (x − D)/σ.
		k := math.Sqrt(1 / alpha)
		vp := 1 / math.Sqrt(1+float64(s*s))
		e := (1 - alpha) / math.Sqrt(1-ac) / s
		terms := []term{{k * (vp - e), x}, {k * e, den}}
		if sp > 0 {
			terms = append(terms, term{math.Sqrt((1 - alpha) * (1 - acPrev) / (1 - ac)), noise(s, sp)})
		}
		x = comb(terms...)
		if sp != 0 {
			x = comb(term{math.Sqrt(1 + float64(sp*sp)), x})
		}
		return x, nil
	})
}

// sampleLCM is sample_lcm (latent consistency models): x ← D, then
// re-noised to σ_{i+1} with fresh noise (EPS noise_scaling: D + σ·ε).
func sampleLCM(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	noise := defaultNoiseSampler(x, o.Seed)
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		if sigmas[i+1] > 0 {
			return comb(term{1, den}, term{sigmas[i+1], noise(sigmas[i], sigmas[i+1])}), nil
		}
		return den.Clone(), nil
	})
}

// sampleIPNDM is sample_ipndm (improved pseudo-numerical methods, Zhang &
// Chen 2023): Adams–Bashforth of order up to 4 on the slopes d, with
// constant-step coefficients; the step into σ = 0 returns D.
func sampleIPNDM(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const maxOrder = 4
	var buf []*node.Tensor // previous slopes, oldest first, at most 3
	return sampleSteps(ctx, d, x, sigmas, o, func(i int, x, den *node.Tensor) (*node.Tensor, error) {
		tCur, tNext := sigmas[i], sigmas[i+1]
		dCur := toD(x, den, tCur)
		order := min(maxOrder, i+1)
		dt := tNext - tCur
		switch {
		case tNext == 0:
			x = den.Clone()
		case order == 1:
			x = comb(term{1, x}, term{dt, dCur})
		case order == 2:
			x = comb(term{1, x}, term{dt * 3 / 2, dCur}, term{-dt / 2, buf[len(buf)-1]})
		case order == 3:
			x = comb(term{1, x}, term{dt * 23 / 12, dCur}, term{-dt * 16 / 12, buf[len(buf)-1]},
				term{dt * 5 / 12, buf[len(buf)-2]})
		default:
			x = comb(term{1, x}, term{dt * 55 / 24, dCur}, term{-dt * 59 / 24, buf[len(buf)-1]},
				term{dt * 37 / 24, buf[len(buf)-2]}, term{-dt * 9 / 24, buf[len(buf)-3]})
		}
		buf = append(buf, dCur)
		if len(buf) > maxOrder-1 {
			buf = buf[1:]
		}
		return x, nil
	})
}
