package model

import "math"

// This file holds what makes the global posterior respond like a trained
// model instead of snapping every sample onto its nearest exemplar
// (issue 13):
//
//   - shifted components: every exemplar also at the translations of
//     Config.Shifts, so the noise (the seed, the trajectory) decides where
//     the scene lands, not only which exemplar wins;
//   - a smooth subspace: each component is wider (variance s² + λ) along
//     the lowest LowFreq×LowFreq 2-D polynomial frequencies of each
//     channel, so every sample keeps a continuous colour and lighting field
//     that the whole trajectory decides (seed, sampler, schedule, steps,
//     cfg, denoise), while edges stay as crisp as the exemplars'.
//
// The posterior is still exact: with Σ = v1(I−P) + v2·P (P the orthogonal
// projection onto the smooth subspace, v1 = s²+σ², v2 = v1+λ),
//
//	log N(x; μ, Σ) = −‖x−μ‖²/(2v1) + λ/(2·v1·v2)·‖P(x−μ)‖² + const,
//
// so the responsibilities are the backend's attention over the components
// with the second term added to each key's bias (it lives in the small
// coefficient space of P), and the mean is
//
//	D(x) = m + a1(x−m) + (a2−a1)·P(x−m),  a1 = s²/v1, a2 = (s²+λ)/v2,
//
// m the attention output. Every sum below runs in a fixed order with
// products rounded explicitly (no fused multiply-add), so the bits are the
// same on every machine.

// shiftPairs returns the distinct latent-pixel translations (dy, dx) of an
// h×w latent for the configured shift fractions: (0, 0) first, then the
// others in order (a shift that rounds to one already listed is dropped).
func shiftPairs(fracs [][2]float64, h, w int) [][2]int {
	out := [][2]int{{0, 0}}
	seen := map[[2]int]bool{{0, 0}: true}
	for _, f := range fracs {
		p := [2]int{int(math.Round(float64(f[0] * float64(h)))), int(math.Round(float64(f[1] * float64(w))))}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// shiftPlanes writes src [n, h, w] translated by (dy, dx) into dst,
// repeating the border rows and columns where the content moved away:
// dst[p, y, x] = src[p, clamp(y−dy), clamp(x−dx)]. It only copies values,
// a row at a time: columns [lo, hi) come from source columns [lo−dx,
// hi−dx), those left of lo repeat source column 0 and those from hi on
// column w−1 (the per-size setup of a 128² latent shifts 218 MB of
// components, so a clamp per value was a tenth of the 1024² case's time).
func shiftPlanes(dst, src []float32, n, h, w, dy, dx int) {
	lo, hi := clampInt(dx, 0, w), clampInt(w+dx, 0, w)
	for p := 0; p < n; p++ {
		for y := 0; y < h; y++ {
			sy := clampInt(y-dy, 0, h-1)
			srow := src[(p*h+sy)*w : (p*h+sy+1)*w]
			drow := dst[(p*h+y)*w : (p*h+y+1)*w]
			for x := range drow[:lo] {
				drow[x] = srow[0]
			}
			if lo < hi {
				copy(drow[lo:hi], srow[lo-dx:hi-dx])
			}
			for x := hi; x < w; x++ {
				drow[x] = srow[w-1]
			}
		}
	}
}

// sqNorms returns the squared norms of the n components of lat [n, d] in
// float64: component j's is exactly sqNorm's sum before its rounding to
// float32 (the values squared exactly and added in order from zero into
// one accumulator). Four components are summed side by side, each in its
// own accumulator, so the adds of one do not wait for another's (the sums
// are chains of dependent adds; 832 components of 65 536 values at a 128²
// latent).
func sqNorms(lat []float32, n int) []float64 {
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	d := len(lat) / n
	j := 0
	for ; j+3 < n; j += 4 {
		c0, c1, c2, c3 := lat[j*d:(j+1)*d], lat[(j+1)*d:(j+2)*d], lat[(j+2)*d:(j+3)*d], lat[(j+3)*d:(j+4)*d]
		var s0, s1, s2, s3 float64
		for t, v := range c0 {
			s0 += float64(float64(v) * float64(v))
			s1 += float64(float64(c1[t]) * float64(c1[t]))
			s2 += float64(float64(c2[t]) * float64(c2[t]))
			s3 += float64(float64(c3[t]) * float64(c3[t]))
		}
		out[j], out[j+1], out[j+2], out[j+3] = s0, s1, s2, s3
	}
	for ; j < n; j++ {
		var s float64
		for _, v := range lat[j*d : (j+1)*d] {
			s += float64(float64(v) * float64(v))
		}
		out[j] = s
	}
	return out
}

// polyBasis returns n orthonormal (in the discrete inner product) smooth
// functions on size points: the Legendre-like polynomials 1, t, t², … of
// t = (2i+1)/size − 1, made orthonormal by Gram–Schmidt. Row u is basis
// function u.
func polyBasis(n, size int) [][]float64 {
	n = min(n, size)
	out := make([][]float64, n)
	for u := range out {
		v := make([]float64, size)
		for i := range v {
			t := float64(2*i+1)/float64(size) - 1
			p := 1.0
			for range u {
				p = float64(p * t)
			}
			v[i] = p
		}
		for _, b := range out[:u] {
			var dot float64
			for i := range v {
				dot += float64(v[i] * b[i])
			}
			for i := range v {
				v[i] -= float64(dot * b[i])
			}
		}
		var n2 float64
		for _, x := range v {
			n2 += float64(x * x)
		}
		inv := 1 / math.Sqrt(n2)
		for i := range v {
			v[i] = float64(v[i] * inv)
		}
		out[u] = v
	}
	return out
}

// smooth is the smooth subspace of h×w latents: per channel, the products
// of the row and column basis functions, with the extra variance λ of each
// (the same for every channel).
type smooth struct {
	c, h, w int
	by, bx  [][]float64 // [F][h], [F][w]
	lam     []float64   // [F·F] extra variance of coefficient (u, v)
}

// weights returns, for noise level σ and component width s², each
// coefficient's log-likelihood weight λ/(2·v·(v+λ)) and its gain over the
// isotropic shrinkage, (s²+λ)/(v+λ) − s²/v, v = s²+σ² (order c, u, v).
func (s *smooth) weights(s2, v float64) (g, gain []float64) {
	n := len(s.lam)
	g, gain = make([]float64, s.c*n), make([]float64, s.c*n)
	for ch := 0; ch < s.c; ch++ {
		for i, l := range s.lam {
			g[ch*n+i] = l / float64(float64(2*v)*(v+l))
			gain[ch*n+i] = (s2+l)/(v+l) - s2/v
		}
	}
	return g, gain
}

// dim is the number of coefficients of one latent.
func (s *smooth) dim() int { return s.c * len(s.by) * len(s.bx) }

// coefs writes the coefficients of lat [c, h, w] (order c, u, v) into dst:
// coef(c, u, v) = Σ_y by[u][y]·(Σ_x bx[v][x]·lat[c, y, x]), both sums in
// order. The inner sums do not depend on u, so they are computed once per
// row (F× less work than per u) and then weighted, in the same order, for
// every u: the same operations on the same values. The inner sums of four
// column functions run side by side in one pass over the row, each in its
// own accumulator in order x = 0…w−1 (four independent chains of adds
// instead of one: the same bits, about twice as fast).
func (s *smooth) coefs(dst []float64, lat []float32) {
	F, G := len(s.by), len(s.bx)
	row := make([]float64, G)
	acc := make([]float64, s.h*G) // [y][v] Σ_x bx[v][x]·lat[c, y, x]
	for ch := 0; ch < s.c; ch++ {
		plane := lat[ch*s.h*s.w : (ch+1)*s.h*s.w]
		for y := 0; y < s.h; y++ {
			line := plane[y*s.w : (y+1)*s.w]
			v := 0
			for ; v+3 < G; v += 4 {
				var a0, a1, a2, a3 float64
				b0, b1, b2, b3 := s.bx[v][:len(line)], s.bx[v+1][:len(line)], s.bx[v+2][:len(line)], s.bx[v+3][:len(line)]
				for x, val := range line {
					fv := float64(val)
					a0 += float64(b0[x] * fv)
					a1 += float64(b1[x] * fv)
					a2 += float64(b2[x] * fv)
					a3 += float64(b3[x] * fv)
				}
				acc[y*G+v], acc[y*G+v+1], acc[y*G+v+2], acc[y*G+v+3] = a0, a1, a2, a3
			}
			for ; v < G; v++ {
				var a float64
				bx := s.bx[v]
				for x, val := range line {
					a += float64(bx[x] * float64(val))
				}
				acc[y*G+v] = a
			}
		}
		for u := 0; u < F; u++ {
			for v := range row {
				row[v] = 0
			}
			for y := 0; y < s.h; y++ {
				wy := s.by[u][y]
				for v := 0; v < G; v++ {
					row[v] += float64(wy * acc[y*G+v])
				}
			}
			copy(dst[(ch*F+u)*G:], row)
		}
	}
}

// addProjection adds Σ_i gain_i·coef_i·basis_i to out (P(r) scaled per
// coefficient, given r's coefficients).
func (s *smooth) addProjection(out []float32, coef, gain []float64) {
	F, G := len(s.by), len(s.bx)
	for ch := 0; ch < s.c; ch++ {
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				var acc float64
				for u := 0; u < F; u++ {
					wy := s.by[u][y]
					for v := 0; v < G; v++ {
						i := (ch*F+u)*G + v
						acc += float64(float64(wy*s.bx[v][x]) * float64(gain[i]*coef[i]))
					}
				}
				i := (ch*s.h+y)*s.w + x
				out[i] = float32(float64(out[i]) + acc)
			}
		}
	}
}

// newSmooth builds the subspace of f×f basis functions per channel whose
// coefficient (u, v) has extra variance width²·decay^(u+v): the smoother
// the function, the wider, as in natural images' spectra, so that the
// coarse layout of the light is decided early in a trajectory and finer
// shading later (which is what makes schedulers differ).
func newSmooth(c, h, w, f int, width, decay float64) *smooth {
	s := &smooth{c: c, h: h, w: w, by: polyBasis(f, h), bx: polyBasis(f, w)}
	F, G := len(s.by), len(s.bx)
	s.lam = make([]float64, F*G)
	for u := 0; u < F; u++ {
		for v := 0; v < G; v++ {
			l := float64(width * width)
			for range u + v {
				l = float64(l * decay)
			}
			s.lam[u*G+v] = l
		}
	}
	return s
}
