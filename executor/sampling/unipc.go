package sampling

import (
	"context"
	"fmt"
	"math"

	"github.com/regen-dev/regen/internal/pmath"

	"github.com/regen-dev/regen/executor/node"
)

// sampleUniPC returns comfy/extra_samplers/uni_pc.py sample_unipc: the
// UniPC predictor–corrector (Zhao et al. 2023) in multistep mode, data
// prediction (predict_x0), variant bh1 (uni_pc) or bh2 (uni_pc_bh2), order
// min(3, len(sigmas)−2) with lower_order_final, on the given sigmas.
//
// As ComfyUI: a final σ below 0.001 (normally 0) is replaced by 0.001; x is moved to variance-
// preserving coordinates x_vp = x/sqrt(1+σ0²) with α(σ) = 1/sqrt(1+σ²),
// σ_vp(σ) = σ/sqrt(1+σ²), λ = −ln σ; the data prediction at (x_vp, σ) is
// D(x_vp·sqrt(1+σ²), σ) (ComfyUI computes it through ε and back, which is
// algebraically the same); the result is x_vp/α(σ_last). With a single step
// (order 0) ComfyUI only evaluates the model and returns the rescaled input;
// so does this.
func sampleUniPC(bh2 bool) samplerFunc {
	return func(ctx context.Context, d Denoiser, x *node.Tensor, sigmas []float64, o *Options) (*node.Tensor, error) {
		ts := append([]float64(nil), sigmas...)
		if ts[len(ts)-1] < 0.001 {
			ts[len(ts)-1] = 0.001
		}
		steps := len(ts) - 1
		order := min(3, len(ts)-2)
		alpha := func(s float64) float64 { return 1 / math.Sqrt(1+float64(s*s)) }
		stdv := func(s float64) float64 { return s / math.Sqrt(1+float64(s*s)) }
		lambda := func(s float64) float64 { return -pmath.Log(s) }
		model := func(xv *node.Tensor, s float64) (*node.Tensor, error) {
			return d(ctx, comb(term{math.Sqrt(1 + float64(s*s)), xv}), s)
		}

		xv := comb(term{1 / math.Sqrt(1+float64(ts[0]*ts[0])), x})
		var tPrev []float64
		var mPrev []*node.Tensor

		// update is multistep_uni_pc_bh_update for data prediction.
		update := func(xv *node.Tensor, t float64, ord int, corrector bool) (*node.Tensor, *node.Tensor, error) {
			if ord < 1 || ord > len(mPrev) {
				return nil, nil, fmt.Errorf("uni_pc: order %d with %d previous values", ord, len(mPrev))
			}
			t0 := tPrev[len(tPrev)-1]
			m0 := mPrev[len(mPrev)-1]
			l0, lt := lambda(t0), lambda(t)
			h := lt - l0
			var rks []float64
			var d1s []*node.Tensor
			for i := 1; i < ord; i++ {
				ti := tPrev[len(tPrev)-1-i]
				mi := mPrev[len(mPrev)-1-i]
				rk := (lambda(ti) - l0) / h
				rks = append(rks, rk)
				d1s = append(d1s, comb(term{1 / rk, mi}, term{-1 / rk, m0}))
			}
			rks = append(rks, 1)
			hh := -h
			hPhi1 := pmath.Expm1(hh)
			hPhiK := hPhi1/hh - 1
			fact := 1.0
			bh := hh
			if bh2 {
				bh = pmath.Expm1(hh)
			}
			R := make([][]float64, ord)
			b := make([]float64, ord)
			for i := 1; i <= ord; i++ {
				R[i-1] = make([]float64, ord)
				for k := range rks {
					R[i-1][k] = pmath.Pow(rks[k], float64(i-1))
				}
				b[i-1] = hPhiK * fact / bh
				fact *= float64(i + 1)
				hPhiK = hPhiK/hh - 1/fact
			}
			var rhosP []float64
			if len(d1s) > 0 {
				if ord == 2 {
					rhosP = []float64{0.5}
				} else {
					rhosP = solve(sub(R, ord-1), b[:ord-1])
				}
			}
			var rhosC []float64
			if corrector {
				if ord == 1 {
					rhosC = []float64{0.5}
				} else {
					rhosC = solve(R, b)
				}
			}
			st, s0, at := stdv(t), stdv(t0), alpha(t)
			base := []term{{st / s0, xv}, {-at * hPhi1, m0}}
			pred := append([]term(nil), base...)
			for k, dk := range d1s {
				pred = append(pred, term{-at * bh * rhosP[k], dk})
			}
			xt := comb(pred...)
			if !corrector {
				return xt, nil, nil
			}
			mt, err := model(xt, t)
			if err != nil {
				return nil, nil, err
			}
			corr := append([]term(nil), base...)
			for k, dk := range d1s {
				corr = append(corr, term{-at * bh * rhosC[k], dk})
			}
			last := rhosC[len(rhosC)-1]
			corr = append(corr, term{-at * bh * last, mt}, term{at * bh * last, m0})
			return comb(corr...), mt, nil
		}

		for si := 0; si < steps; si++ {
			switch {
			case si == 0:
				m, err := model(xv, ts[0])
				if err != nil {
					return nil, err
				}
				tPrev, mPrev = []float64{ts[0]}, []*node.Tensor{m}
			case si < order:
				t := ts[si]
				nx, mx, err := update(xv, t, si, true)
				if err != nil {
					return nil, err
				}
				xv = nx
				if mx == nil {
					if mx, err = model(xv, t); err != nil {
						return nil, err
					}
				}
				tPrev, mPrev = append(tPrev, t), append(mPrev, mx)
			default:
				stop := si
				if si == steps-1 {
					stop = si + 1
				}
				for st := si; st <= stop; st++ {
					t := ts[st]
					ord := min(order, steps+1-st) // lower_order_final
					nx, mx, err := update(xv, t, ord, st != steps)
					if err != nil {
						return nil, err
					}
					xv = nx
					copy(tPrev, tPrev[1:])
					copy(mPrev, mPrev[1:])
					tPrev[len(tPrev)-1] = t
					if st < steps {
						if mx == nil {
							if mx, err = model(xv, t); err != nil {
								return nil, err
							}
						}
						mPrev[len(mPrev)-1] = mx
					}
				}
			}
			if err := o.step(si, steps, xv, mPrev[len(mPrev)-1]); err != nil {
				return nil, err
			}
		}
		return comb(term{1 / alpha(ts[len(ts)-1]), xv}), nil
	}
}

// sub returns the leading n×n block of m.
func sub(m [][]float64, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), m[i][:n]...)
	}
	return out
}

// solve solves a·x = b by Gaussian elimination with partial pivoting
// (systems here are at most 3×3).
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= float64(f * m[c][k])
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= float64(m[r][k] * x[k])
		}
		x[r] = s / m[r][r]
	}
	return x
}
