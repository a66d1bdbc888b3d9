package sampling

import (
	"context"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// DPM-Solver (Lu et al. 2022, arXiv 2206.00927) in k-diffusion's DPMSolver
// form, in t = −ln σ with ε = (x − D)/σ, as ComfyUI runs dpm_fast and
// dpm_adaptive: from σ_max = sigmas[0] down to σ_min = the last non-zero
// sigma (these samplers do not take the final jump to 0), with η = 0. Their
// noise sampler is still drawn from on every step (times 0), as ComfyUI's.

type dpmSolver struct {
	d     Denoiser
	noise noiseSampler
	evals int
}

func (s *dpmSolver) eps(ctx context.Context, x *node.Tensor, t float64) (*node.Tensor, error) {
	sig := sigmaOfT(t)
	den, err := s.d(ctx, x, sig)
	if err != nil {
		return nil, err
	}
	s.evals++
	return toD(x, den, sig), nil
}

// step1, step2 and step3 are dpm_solver_{1,2,3}_step given ε at t.
func (s *dpmSolver) step1(x, eps *node.Tensor, t, tNext float64) *node.Tensor {
	h := tNext - t
	return comb(term{1, x}, term{-sigmaOfT(tNext) * pmath.Expm1(h), eps})
}

func (s *dpmSolver) step2(ctx context.Context, x, eps *node.Tensor, t, tNext, r1 float64) (*node.Tensor, error) {
	h := tNext - t
	s1 := t + float64(r1*h)
	u1 := comb(term{1, x}, term{-sigmaOfT(s1) * pmath.Expm1(r1*h), eps})
	e1, err := s.eps(ctx, u1, s1)
	if err != nil {
		return nil, err
	}
	sn := sigmaOfT(tNext)
	c := float64(sn / (2 * r1) * pmath.Expm1(h))
	return comb(term{1, x}, term{float64(-sn*pmath.Expm1(h)) + c, eps}, term{-c, e1}), nil
}

func (s *dpmSolver) step3(ctx context.Context, x, eps *node.Tensor, t, tNext float64) (*node.Tensor, error) {
	const r1, r2 = 1.0 / 3, 2.0 / 3
	h := tNext - t
	s1, s2 := t+float64(r1*h), t+float64(r2*h)
	u1 := comb(term{1, x}, term{-sigmaOfT(s1) * pmath.Expm1(r1*h), eps})
	e1, err := s.eps(ctx, u1, s1)
	if err != nil {
		return nil, err
	}
	c2 := float64(sigmaOfT(s2) * (r2 / r1) * (pmath.Expm1(r2*h)/(r2*h) - 1))
	u2 := comb(term{1, x}, term{float64(-sigmaOfT(s2)*pmath.Expm1(r2*h)) + c2, eps}, term{-c2, e1})
	e2, err := s.eps(ctx, u2, s2)
	if err != nil {
		return nil, err
	}
	sn := sigmaOfT(tNext)
	c3 := float64(sn / r2 * (pmath.Expm1(h)/h - 1))
	return comb(term{1, x}, term{float64(-sn*pmath.Expm1(h)) + c3, eps}, term{-c3, e2}), nil
}

// lastPositive is ComfyUI's σ_min for dpm_fast/dpm_adaptive: the last
// sigma, or the one before it when the last is 0.
func lastPositive(sigmas []float64) float64 {
	if s := sigmas[len(sigmas)-1]; s != 0 {
		return s
	}
	return sigmas[len(sigmas)-2]
}

// sampleDPMFast is dpm_fast: DPM-Solver-fast with nfe = len(sigmas)−1 model
// evaluations on m = nfe/3+1 uniform steps in t, third order except for the
// last one or two. Progress is reported per solver step out of nfe, as
// ComfyUI does (its bar stops near a third).
func sampleDPMFast(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	nfe := len(sigmas) - 1
	s := &dpmSolver{d: d, noise: defaultNoiseSampler(x, o.Seed)}
	tStart, tEnd := tOf(sigmas[0]), tOf(lastPositive(sigmas))
	m := nfe/3 + 1
	ts := linspace(tStart, tEnd, m+1)
	var orders []int
	if nfe%3 == 0 {
		for i := 0; i < m-2; i++ {
			orders = append(orders, 3)
		}
		orders = append(orders, 2, 1)
	} else {
		for i := 0; i < m-1; i++ {
			orders = append(orders, 3)
		}
		orders = append(orders, nfe%3)
	}
	for i, ord := range orders {
		t, tNext := ts[i], ts[i+1]
		eps, err := s.eps(ctx, x, t)
		if err != nil {
			return nil, err
		}
		den := comb(term{1, x}, term{-sigmaOfT(t), eps})
		switch ord {
		case 1:
			x = s.step1(x, eps, t, tNext)
		case 2:
			x, err = s.step2(ctx, x, eps, t, tNext, 0.5)
		default:
			x, err = s.step3(ctx, x, eps, t, tNext)
		}
		if err != nil {
			return nil, err
		}
		s.noise(sigmaOfT(t), sigmaOfT(tNext)) // drawn and multiplied by 0, as ComfyUI
		if err := o.step(i, nfe, x, den); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// sampleDPMAdaptive is dpm_adaptive: DPM-Solver-23 with PID step-size
// control (order 3, rtol 0.05, atol 0.0078, h_init 0.05, integral gain 1,
// accept safety 0.81) from σ_max to σ_min; the number of steps is not known
// in advance, so progress is reported per accepted-or-rejected step out of
// len(sigmas)−1, like ComfyUI's callback.
func sampleDPMAdaptive(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
	const (
		order  = 3
		rtol   = 0.05
		atol   = 0.0078
		safety = 0.81
		eps8   = 1e-8
	)
	total := len(sigmas) - 1
	s := &dpmSolver{d: d, noise: defaultNoiseSampler(x, o.Seed)}
	tStart, tEnd := tOf(sigmas[0]), tOf(lastPositive(sigmas))
	forward := tEnd > tStart
	h := 0.05
	if !forward {
		h = -h
	}
	// PID controller with pcoeff 0, icoeff 1, dcoeff 0 at order 3.
	b1, b2, b3 := 1.0/order, 0.0, 0.0
	var errs []float64
	propose := func(e float64) bool {
		inv := 1 / (e + eps8)
		if errs == nil {
			errs = []float64{inv, inv, inv}
		}
		errs[0] = inv
		f := float64(pmath.Pow(errs[0], b1) * pmath.Pow(errs[1], b2) * pmath.Pow(errs[2], b3))
		f = 1 + pmath.Atan(f-1)
		accept := f >= safety
		if accept {
			errs[2], errs[1] = errs[1], errs[0]
		}
		h *= f
		return accept
	}
	cur := tStart
	xPrev := x
	for step := 0; ; step++ {
		if forward && !(cur < tEnd-1e-5) || !forward && !(cur > tEnd+1e-5) {
			break
		}
		t := math.Min(tEnd, cur+h)
		if !forward {
			t = math.Max(tEnd, cur+h)
		}
		eps, err := s.eps(ctx, x, cur)
		if err != nil {
			return nil, err
		}
		den := comb(term{1, x}, term{-sigmaOfT(cur), eps})
		low, err := s.step2(ctx, x, eps, cur, t, 1.0/3)
		if err != nil {
			return nil, err
		}
		high, err := s.step3(ctx, x, eps, cur, t)
		if err != nil {
			return nil, err
		}
		var sum float64
		for i := range low.Data {
			delta := math.Max(atol, rtol*math.Max(math.Abs(float64(low.Data[i])), math.Abs(float64(xPrev.Data[i]))))
			q := (float64(low.Data[i]) - float64(high.Data[i])) / delta
			sum += float64(q * q)
		}
		e := math.Sqrt(sum) / math.Sqrt(float64(len(low.Data)))
		if propose(e) {
			xPrev = low
			s.noise(sigmaOfT(cur), sigmaOfT(t)) // drawn and multiplied by 0
			x = high
			cur = t
		}
		if err := o.step(step, total, x, den); err != nil {
			return nil, err
		}
	}
	return x, nil
}
