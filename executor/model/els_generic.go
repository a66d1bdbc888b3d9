package model

import (
	"math"
	"sync"

	"github.com/regen-dev/regen/internal/pmath"
)

// The els generic component (issue 13). els img2img snapped its input onto
// exemplar pieces: every patch query's only candidates were exemplar
// patches, so a shape or colour that no exemplar has near that position
// was replaced at any denoise (distance from the input at denoise 0.3 was
// 0.87 × the distance at 0.5 on the sensitivity table). Beside the
// exemplar pieces every latent position now has one more mixture
// component, a prior that is not an exemplar:
//
//   - the prior: each channel's orthonormal 2-D Haar wavelet coefficients
//     are independent, each detail band's a zero-mean Gaussian scale
//     mixture (gsmScales variances, fitted to the exemplars by EM), the
//     coarsest average band's one Gaussian. A scale mixture is sparse: a
//     few large coefficients (the edges of flat shapes, which is what the
//     fixture scenes are made of) and many near zero, so its posterior
//     mean keeps an input's edges and flat areas and shrinks what looks
//     like noise more than a Gaussian prior can (tried here: the gmm
//     generic component's DCT-diagonal Gaussian, weighed the same way,
//     kept more of the starting noise as colour blotches and gave the
//     table's ratio 0.75 to 0.85; a piecewise-flat window prior flattened
//     the noise into wrong colours; a second exemplar pass with 3×3
//     patches was clean but cost a fifth more and kept less, 0.79 to
//     0.92). What it leaves: one decimated Haar basis puts edges on a
//     2^k-pixel grid, so the kept parts are blocky, with some blotches;
//   - its likelihood is exact, per coefficient log Σ_m π_m N(y; 0, λ_m + σ²)
//     (the transform is orthonormal), and so is its posterior mean,
//     Σ_m w_m(y)·λ_m/(λ_m + σ²)·y per coefficient;
//   - it is weighed against the exemplar pieces position by position, as
//     els weighs its pieces: at latent pixel p the generic component's
//     weight is
//
//     r_p = sigmoid(log π_g + ℓ_g(p) − ℓ_x(p)),
//
//     ℓ_g(p) its log density's share at p (each coefficient's spread
//     evenly over the pixels of its support), ℓ_x(p) the exemplar pieces'
//     at p: as the gmm generic component's exemplarLog does, that of the
//     component centred on the els posterior mean m (before the shrink
//     towards x), width v = s² + σ² on the rough part of x − m, the smooth
//     subspace's quadratic form and log determinant (components.go) spread
//     evenly. Exact evidence over every exemplar key would need the backend
//     to return each query's softmax normaliser;
//   - the prediction is out_p = (1 − r_p)·D_els,p + r_p·D_g,p.
//
// So a part of an input that exemplar pieces explain (a sky, a shape an
// exemplar has there) is still drawn to them and changes its texture and
// detail, while a part that none explains (a circle where the exemplars
// have a triangle, a square of a colour they lack) keeps the input.
//
// It takes part only for elsGenericMinSigma ≤ σ < elsGenericMaxSigma:
//
//   - not above 1, as the gmm generic component (fixtures/gen's
//     genericMaxSigma): there a txt2img trajectory is not yet near
//     exemplar pieces and any broad component explains it as well; and an
//     img2img at denoise 0.5 (σ ≈ 1.6 at 10 steps) then starts with steps
//     that only the exemplars draw, so it moves clearly further from its
//     input than one at 0.3 (σ ≈ 0.84), which the generic component holds
//     from its first step;
//   - not below 0.15, the 3×3-patch stage of fixtures/gen's schedule:
//     there the exemplar pieces choose the final detail, and a txt2img
//     latent's seams between pieces (where m does not follow x) would
//     otherwise go to the generic component and be smoothed.
//
// It needs nothing in the checkpoint: the prior is fitted to the
// exemplars (LoRAs' included) on first use at each latent size, and
// log π_g is elsGenericLogWeight.
//
// Cost, 512² (a 64×64 latent): one Haar transform each way (O(d)) and
// three exponentials per coefficient per evaluation in the σ range, ≈ 10⁵
// operations against ≈ 3·10⁹ multiply-adds for the patch attention; the
// fit, once per latent size and model, 61 ms (BenchmarkELSGenericFit: at
// most gsmMaxSamples values per band). A 512² 20-step txt2img measured
// 4.8–5.6 CPU-s against 4.9–5.4 without the component, interleaved
// (BenchmarkTxt2Img512, load ≈ 5 on 2 cores). Every sum runs in a fixed
// order with products rounded explicitly (no fused multiply-add).

// elsGenericLogWeight is log π_g, the generic component's prior weight
// against the exemplar pieces, at every latent pixel. At 0 the component
// took enough of a txt2img latent's pixels at σ < 1 to lose small objects
// the prompt asked for (the Steering spec's red circle at 64², seed 6)
// and moved txt2img images 4.9 levels mean; at −2 they move 2.8 and keep
// it, and img2img still keeps its input (the table's ratio 0.68; 0.80 at
// −4, 0.85 at −6).
const elsGenericLogWeight = -2

// elsGenericMinSigma and elsGenericMaxSigma bound the noise levels at which
// the generic component takes part (see above).
const (
	elsGenericMinSigma = 0.15
	elsGenericMaxSigma = 1
)

// minELSGenericWeight: when no position's generic weight reaches this, the
// blend is skipped (it would move no value by more than 1e-9 of its
// scale).
const minELSGenericWeight = 1e-9

// gsmScales is the number of scales of a detail band's mixture, and
// gsmIterations the fixed number of EM iterations that fit it.
const (
	gsmScales     = 3
	gsmIterations = 30
)

// gsmMaxSamples caps the values a band's mixture is fitted to (the finest
// bands of a 64×64 latent hold 65536 per channel over 64 exemplars).
const gsmMaxSamples = 1024

// gsm is one scale of a band's mixture: log weight and variance.
type gsm struct{ logPi, lam float64 }

// elsGeneric is the generic component at one latent size: the Haar
// layout of an h×w latent and each band's prior.
type elsGeneric struct {
	c, h, w int
	levels  int
	// per coefficient position of one channel ([h·w], Mallat layout): its
	// band, its support's side (2^level pixels) and top-left pixel.
	band      []int
	side      []int
	top, left []int
	bands     int
	mix       [][]gsm   // [c·bands] the band's scales
	mu        []float64 // [c·bands] the band's mean (0 but for the average band)
}

// elsGenericOnce builds a size's generic component on first use.
type elsGenericOnce struct {
	once sync.Once
	g    *elsGeneric
}

// get returns the component fitted to the n latents lat [n, c, h, w].
func (o *elsGenericOnce) get(lat []float32, n, c, h, w int, floor float64) *elsGeneric {
	o.once.Do(func() { o.g = newELSGeneric(lat, n, c, h, w, floor) })
	return o.g
}

// haarLevels is how many times both sides halve: while both are even, at
// most 6.
func haarLevels(h, w int) int {
	l := 0
	for h%2 == 0 && w%2 == 0 && l < 6 {
		h, w, l = h/2, w/2, l+1
	}
	return l
}

// newELSGeneric lays out the bands of an h×w latent and fits each band's
// mixture, per channel, to the n latents lat: the average band's mean and
// variance; each detail band's scales by EM from variances var·{1/100,
// 1/10, 1} and equal weights, every variance at least floor.
func newELSGeneric(lat []float32, n, c, h, w int, floor float64) *elsGeneric {
	L := haarLevels(h, w)
	g := &elsGeneric{c: c, h: h, w: w, levels: L, bands: 3*L + 1}
	hw := h * w
	g.band, g.side, g.top, g.left = make([]int, hw), make([]int, hw), make([]int, hw), make([]int, hw)
	hL, wL := h>>L, w>>L
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if y < hL && x < wL {
				g.band[i], g.side[i], g.top[i], g.left[i] = 0, 1<<L, y<<L, x<<L
				continue
			}
			// the finest level l whose band holds (y, x): bands of level
			// l lie in [0, h>>(l−1)) × [0, w>>(l−1)) outside the level's
			// average [0, h>>l) × [0, w>>l).
			l := L
			for y >= h>>l || x >= w>>l {
				l--
			}
			l++ // now (y, x) is inside level l's region, outside its average
			hl, wl := h>>l, w>>l
			o := 0 // 0: x high only, 1: y high only, 2: both
			switch {
			case y < hl:
				o = 0
			case x < wl:
				o = 1
			default:
				o = 2
			}
			g.band[i] = 1 + 3*(l-1) + o
			g.side[i] = 1 << l
			g.top[i], g.left[i] = (y%hl)<<l, (x%wl)<<l
		}
	}
	// the coefficients of every exemplar, per channel and band
	d := c * hw
	samples := make([][]float64, c*g.bands)
	co := make([]float64, d)
	for k := 0; k < n; k++ {
		g.forward(co, lat[k*d:(k+1)*d])
		for ch := 0; ch < c; ch++ {
			for i := 0; i < hw; i++ {
				b := ch*g.bands + g.band[i]
				samples[b] = append(samples[b], co[ch*hw+i])
			}
		}
	}
	g.mix, g.mu = make([][]gsm, c*g.bands), make([]float64, c*g.bands)
	for b, xs := range samples {
		if n := len(xs); n > gsmMaxSamples {
			// every ⌈n/gsmMaxSamples⌉-th value, in order: the fit's cost
			// (gsmIterations·gsmScales exponentials per value) stays a few
			// milliseconds per band at any latent size
			step := (n + gsmMaxSamples - 1) / gsmMaxSamples
			sub := make([]float64, 0, gsmMaxSamples)
			for i := 0; i < n; i += step {
				sub = append(sub, xs[i])
			}
			xs = sub
		}
		if b%g.bands == 0 {
			var m, q float64
			for _, x := range xs {
				m += x
			}
			m /= float64(len(xs))
			for _, x := range xs {
				q += float64((x - m) * (x - m))
			}
			g.mu[b] = m
			g.mix[b] = []gsm{{0, max(q/float64(len(xs)), floor)}}
			continue
		}
		g.mix[b] = fitGSM(xs, floor)
	}
	return g
}

// fitGSM fits a zero-mean Gaussian scale mixture of gsmScales scales to xs
// by gsmIterations EM iterations, every sum in order.
func fitGSM(xs []float64, floor float64) []gsm {
	var q float64
	for _, x := range xs {
		q += float64(x * x)
	}
	v := max(q/float64(len(xs)), floor)
	pi := make([]float64, gsmScales)
	lam := make([]float64, gsmScales)
	for m := range lam {
		l := v // v·10^(m−gsmScales+1)
		for range gsmScales - 1 - m {
			l /= 10
		}
		lam[m] = max(l, floor)
		pi[m] = 1 / float64(gsmScales)
	}
	r := make([]float64, gsmScales)
	c0 := make([]float64, gsmScales) // log π_m − ½·log λ_m
	h := make([]float64, gsmScales)  // 1/(2λ_m)
	for range gsmIterations {
		for m := range c0 {
			c0[m] = pmath.Log(pi[m]) - float64(0.5*pmath.Log(lam[m]))
			h[m] = 0.5 / lam[m]
		}
		sw := make([]float64, gsmScales)
		sq := make([]float64, gsmScales)
		for _, x := range xs {
			top := math.Inf(-1)
			x2 := float64(x * x)
			for m := range r {
				r[m] = c0[m] - float64(x2*h[m])
				top = max(top, r[m])
			}
			var z float64
			for m := range r {
				r[m] = pmath.Exp(r[m] - top)
				z += r[m]
			}
			for m := range r {
				sw[m] += r[m] / z
				sq[m] += float64(float64(r[m]/z) * float64(x*x))
			}
		}
		for m := range pi {
			pi[m] = max(sw[m]/float64(len(xs)), 1e-6)
			if sw[m] > 0 {
				lam[m] = max(sq[m]/sw[m], floor)
			}
		}
	}
	out := make([]gsm, gsmScales)
	for m := range out {
		out[m] = gsm{pmath.Log(pi[m]), lam[m]}
	}
	return out
}

// invSqrt2 is 1/√2.
var invSqrt2 = 1 / math.Sqrt2

// forward writes the Haar coefficients of lat [c, h, w] into dst (per
// channel, Mallat layout): per level, pairs of columns then pairs of
// rows of the average band, (a+b)/√2 and (a−b)/√2, in index order.
func (g *elsGeneric) forward(dst []float64, lat []float32) {
	h, w := g.h, g.w
	t := make([]float64, h*w)
	for ch := 0; ch < g.c; ch++ {
		p := dst[ch*h*w : (ch+1)*h*w]
		for i, v := range lat[ch*h*w : (ch+1)*h*w] {
			p[i] = float64(v)
		}
		hl, wl := h, w
		for range g.levels {
			for y := 0; y < hl; y++ {
				for x := 0; x < wl/2; x++ {
					a, b := p[y*w+2*x], p[y*w+2*x+1]
					t[y*w+x] = float64((a + b) * invSqrt2)
					t[y*w+wl/2+x] = float64((a - b) * invSqrt2)
				}
			}
			for y := 0; y < hl/2; y++ {
				for x := 0; x < wl; x++ {
					a, b := t[2*y*w+x], t[(2*y+1)*w+x]
					p[y*w+x] = float64((a + b) * invSqrt2)
					p[(hl/2+y)*w+x] = float64((a - b) * invSqrt2)
				}
			}
			hl, wl = hl/2, wl/2
		}
	}
}

// inverse writes the latent with Haar coefficients co (forward's layout)
// into dst [c, h, w] in float64; co is left as it was.
func (g *elsGeneric) inverse(dst, co []float64) {
	h, w := g.h, g.w
	copy(dst, co)
	t := make([]float64, h*w)
	for ch := 0; ch < g.c; ch++ {
		p := dst[ch*h*w : (ch+1)*h*w]
		for l := g.levels; l >= 1; l-- {
			hl, wl := h>>(l-1), w>>(l-1)
			for y := 0; y < hl/2; y++ {
				for x := 0; x < wl; x++ {
					a, b := p[y*w+x], p[(hl/2+y)*w+x]
					t[2*y*w+x] = float64((a + b) * invSqrt2)
					t[(2*y+1)*w+x] = float64((a - b) * invSqrt2)
				}
			}
			for y := 0; y < hl; y++ {
				for x := 0; x < wl/2; x++ {
					a, b := t[y*w+x], t[y*w+wl/2+x]
					p[y*w+2*x] = float64((a + b) * invSqrt2)
					p[y*w+2*x+1] = float64((a - b) * invSqrt2)
				}
			}
		}
	}
}

// posterior returns, for a coefficient y of band b at noise variance sig2,
// the prior's log density of y (the band's mixture at variances λ + σ²,
// without −½·log 2π) and the posterior mean of the clean coefficient.
func (g *elsGeneric) posterior(b int, y, sig2 float64) (ll, mean float64) {
	mix := g.mix[b]
	e := y - g.mu[b]
	var lg [gsmScales]float64
	top := math.Inf(-1)
	for m, s := range mix {
		vf := s.lam + sig2
		lg[m] = s.logPi - float64(0.5*(float64(e*e)/vf+pmath.Log(vf)))
		top = max(top, lg[m])
	}
	var z, gain float64
	for m, s := range mix {
		p := pmath.Exp(lg[m] - top)
		z += p
		gain += float64(p * (s.lam / (s.lam + sig2)))
	}
	return top + pmath.Log(z), g.mu[b] + float64(float64(gain/z)*e)
}

// evaluate returns the generic component's log density of x [c, h, w] at
// noise variance sig2 per pixel (each coefficient's log density spread
// evenly over its support, summed over channels) and its posterior mean
// [c·h·w].
func (g *elsGeneric) evaluate(x []float32, sig2 float64) (ll, mean []float64) {
	C, h, w := g.c, g.h, g.w
	hw := h * w
	ll = make([]float64, hw)
	co := make([]float64, C*hw)
	g.forward(co, x)
	for ch := 0; ch < C; ch++ {
		for i := 0; i < hw; i++ {
			l, mv := g.posterior(ch*g.bands+g.band[i], co[ch*hw+i], sig2)
			co[ch*hw+i] = mv
			sd := g.side[i]
			share := l / float64(sd*sd)
			for y := g.top[i]; y < g.top[i]+sd; y++ {
				row := ll[y*w+g.left[i] : y*w+g.left[i]+sd]
				for xx := range row {
					row[xx] += share
				}
			}
		}
	}
	mean = make([]float64, C*hw)
	g.inverse(mean, co)
	return ll, mean
}

// elsGenericWeights returns, for one latent xb [C, h, w] with the els
// posterior mean's residual res = x − m (before the shrink towards x), the
// generic component's posterior weight r_p at every latent pixel for noise
// level σ and its posterior mean (see the file comment).
func (m *Model) elsGenericWeights(s *sized, g *elsGeneric, xb, res []float32, sigma float64) (rw, dg []float64) {
	C, h, w := g.c, g.h, g.w
	hw := h * w
	sig2 := float64(sigma * sigma)
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + sig2
	rw, dg = g.evaluate(xb, sig2)
	// The exemplar pieces: −½(e²/v + log v) per rough residual value; the
	// smooth coefficients' quadratic form and extra log determinant spread
	// evenly over the pixels.
	ldx := float64(float64(C) * pmath.Log(v))
	rough := res
	if s.sm != nil {
		n := s.sm.dim()
		cr := make([]float64, n)
		s.sm.coefs(cr, res)
		neg := make([]float64, n)
		for i := range neg {
			neg[i] = -1
		}
		rough = append([]float32(nil), res...)
		s.sm.addProjection(rough, cr, neg)
		F := len(s.sm.lam)
		var q, ld float64
		for i, c := range cr {
			l := s.sm.lam[i%F]
			q += float64(c*c) / (v + l)
			ld += pmath.Log((v + l) / v)
		}
		ldx += (q + ld) / float64(hw)
	}
	for p := range rw {
		lx := ldx
		for ch := 0; ch < C; ch++ {
			e := float64(rough[ch*hw+p])
			lx += float64(e*e) / v
		}
		rw[p] = 1 / (1 + pmath.Exp(-(elsGenericLogWeight + rw[p] + float64(0.5*lx))))
	}
	return rw, dg
}

// mixELSGeneric blends the generic component's posterior mean into ob, the
// els prediction of latent xb (batch item), pixel by pixel with the weights
// of elsGenericWeights; res is x − m (see there).
func (m *Model) mixELSGeneric(ob, xb, res []float32, s *sized, sigma float64) {
	K := m.set.K
	C, h, w := m.cfg.LatentChannels, s.h, s.w
	d := C * h * w
	g := s.elsGen.get(s.lat[:K*d], K, C, h, w, float64(m.cfg.ComponentWidth*m.cfg.ComponentWidth))
	rw, dg := m.elsGenericWeights(s, g, xb, res, sigma)
	top := 0.0
	for _, x := range rw {
		top = max(top, x)
	}
	if top < minELSGenericWeight {
		return
	}
	hw := h * w
	for ch := 0; ch < C; ch++ {
		for p := 0; p < hw; p++ {
			i := ch*hw + p
			o := float64(ob[i])
			ob[i] = float32(o + float64(rw[p]*(dg[i]-o)))
		}
	}
}
