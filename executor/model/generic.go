package model

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// The generic component (issue 13): one more mixture component beside the
// exemplars, the Gaussian fitted to the exemplars themselves with a
// covariance that is diagonal in the 2-D DCT-II basis of each channel
// (stationary and spatially correlated: its variance per frequency is the
// exemplars' variance there, large at the low frequencies that carry
// shapes and layout, small at the high ones). Its posterior mean is a
// Wiener filter of x:
//
//	D_g(x) = m + G(x − m) in DCT coefficients, G_f = λ_f / (λ_f + σ²),
//
// which keeps every frequency that stands above the noise (an img2img
// input's shapes and composition at low σ) and resamples the rest. The
// denoiser is D = (1 − r)·D_ex + r·D_g, r = sigmoid(log π_g + log N(x; m,
// Λ + σ²) − log N(x; m_ex, Σ + σ²)), both likelihoods with their log
// determinants, m_ex the exemplar components' posterior mean (see
// exemplarLog for why not the exact mixture evidence). Without an input
// the generic component never wins: from pure noise its likelihood is at
// best level with the exemplars' (log odds within ±2 nats at σ ≥ 6 on the
// sensitivity table's prompts, at log π_g = 0), and once a trajectory is
// near an exemplar the narrow component is likelier by hundreds of nats;
// log π_g = −15 (fixtures/gen) keeps its weight below e^−15 on every
// txt2img step of the sensitivity table above σ = 0.1 (on the last one or
// two, σ < 0.07, where D_g and D_ex both are x to within a few
// hundredths, it may win). It takes part only below
// Config.GenericMaxSigma (1 in fixtures/gen): at higher levels a
// trajectory that cfg (4 to 8 in the suite's workflows) or an ancestral
// sampler's midpoint has pushed off the exemplars is likelier under the
// broad component too (log odds +12 at σ = 7.3 with dpmpp_2s_ancestral),
// and it then kept that state to the end, a blank or shapeless image; by
// σ = 1 a txt2img trajectory is near its exemplar pieces. An img2img
// input that no exemplar explains is likelier under it by 80 nats and more
// at denoise 0.3 (σ ≈ 0.8), so it keeps the input; from denoise 0.5
// (σ ≈ 1.5) the exemplars draw the trajectory to themselves before σ = 1
// (they were likelier by 20 nats and more there too), and take over.
//
// The Gaussian weighs the component (its likelihood against the
// exemplars'), but its posterior mean is no longer the Wiener filter: a
// Gaussian cannot tell the starting noise from content at the
// frequencies where λ_f > σ², so the kept input carried blotches of that
// noise (colour at the scale of a few latent pixels). mixGeneric blends in
// the mean of an edge-preserving, piecewise-smooth prior instead
// (flatMean, flat.go), which averages the noise away inside regions and
// stops at their edges.
//
// Config.GenericLogWeight is log π_g against the exemplars together,
// independent of the prompt; Config.GenericScale (> 0 enables the
// component) scales the fitted variances (1: as fitted; narrower ones
// lose the input: at 0.5 the exemplars win from σ = 0.8). Every sum runs in
// a fixed order with products rounded explicitly (no fused multiply-add),
// so the bits are the same on every machine.

// generic is the generic component at one latent size.
type generic struct {
	c, h, w int
	by, bx  [][]float64 // orthonormal DCT-II rows: [h][h], [w][w]
	mu      []float64   // [c·h·w] m in coefficients (order c, u, v)
	lam     []float64   // [c·h·w] λ_f
}

// dctBasis returns the orthonormal DCT-II matrix of size n: row u is
// a_u·cos(π(2i+1)u / 2n).
func dctBasis(n int) [][]float64 {
	out := make([][]float64, n)
	for u := range out {
		a := math.Sqrt(2 / float64(n))
		if u == 0 {
			a = math.Sqrt(1 / float64(n))
		}
		row := make([]float64, n)
		for i := range row {
			row[i] = float64(a * pmath.Cos(float64(math.Pi*float64(2*i+1))*float64(u)/float64(2*n)))
		}
		out[u] = row
	}
	return out
}

// newGeneric fits the generic component of n latents lat [n, c, h, w]:
// per coefficient their mean and their variance times scale, never below
// floor.
func newGeneric(lat []float32, n, c, h, w int, scale, floor float64) *generic {
	g := &generic{c: c, h: h, w: w, by: dctBasis(h), bx: dctBasis(w)}
	d := c * h * w
	g.mu, g.lam = make([]float64, d), make([]float64, d)
	co := make([]float64, d)
	sq := make([]float64, d)
	for k := 0; k < n; k++ {
		g.coefs(co, lat[k*d:(k+1)*d])
		for i, v := range co {
			g.mu[i] += v
			sq[i] += float64(v * v)
		}
	}
	for i := range g.mu {
		g.mu[i] /= float64(n)
		v := float64((sq[i]/float64(n) - float64(g.mu[i]*g.mu[i])) * scale)
		g.lam[i] = max(v, floor)
	}
	return g
}

// coefs writes the DCT coefficients of lat [c, h, w] into dst (order c, u,
// v): Σ_y by[u][y]·(Σ_x bx[v][x]·lat[c, y, x]), both sums in order.
func (g *generic) coefs(dst []float64, lat []float32) {
	tmp := make([]float64, g.h*g.w) // [y][v]
	for ch := 0; ch < g.c; ch++ {
		plane := lat[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for y := 0; y < g.h; y++ {
			line := plane[y*g.w : (y+1)*g.w]
			for v, bx := range g.bx {
				var a float64
				for x, val := range line {
					a += float64(bx[x] * float64(val))
				}
				tmp[y*g.w+v] = a
			}
		}
		out := dst[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for i := range out {
			out[i] = 0
		}
		for u, by := range g.by {
			row := out[u*g.w : (u+1)*g.w]
			for y := 0; y < g.h; y++ {
				wy := by[y]
				t := tmp[y*g.w : (y+1)*g.w]
				for v := range row {
					row[v] += float64(wy * t[v])
				}
			}
		}
	}
}

// synth writes the latent with DCT coefficients co (order c, u, v) into
// dst: Σ_u by[u][y]·(Σ_v bx[v][x]·co[c, u, v]), both sums in order.
func (g *generic) synth(dst []float32, co []float64) {
	tmp := make([]float64, g.h*g.w) // [u][x]
	acc := make([]float64, g.w)
	for ch := 0; ch < g.c; ch++ {
		cp := co[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for u := 0; u < g.h; u++ {
			line := cp[u*g.w : (u+1)*g.w]
			t := tmp[u*g.w : (u+1)*g.w]
			for x := range t {
				var a float64
				for v, c := range line {
					a += float64(g.bx[v][x] * c)
				}
				t[x] = a
			}
		}
		out := dst[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for y := 0; y < g.h; y++ {
			for x := range acc {
				acc[x] = 0
			}
			for u := 0; u < g.h; u++ {
				wy := g.by[u][y]
				t := tmp[u*g.w : (u+1)*g.w]
				for x := range acc {
					acc[x] += float64(wy * t[x])
				}
			}
			for x, a := range acc {
				out[y*g.w+x] = float32(a)
			}
		}
	}
}

// loglik returns the generic component's log likelihood of x at noise
// variance sig2, −½Σ_f [(c_f − m_f)²/(λ_f + σ²) + log(λ_f + σ²)] (without
// the −d/2·log 2π every component shares), and x's DCT coefficients.
func (g *generic) loglik(x []float32, sig2 float64) (float64, []float64) {
	co := make([]float64, len(g.mu))
	g.coefs(co, x)
	var ll float64
	for i, c := range co {
		vf := g.lam[i] + sig2
		e := c - g.mu[i]
		ll += float64(e*e)/vf + pmath.Log(vf)
	}
	return -ll / 2, co
}

// mean writes the Gaussian's own posterior mean D_g(x) = m + G(x − m)
// (the Wiener filter) into out, given x's coefficients co (overwritten).
// The denoiser uses flatMean instead (see above); this stays as the
// Gaussian's reference, held by TestGenericWienerGain.
func (g *generic) mean(out []float32, co []float64, sig2 float64) {
	for i, c := range co {
		vf := g.lam[i] + sig2
		co[i] = g.mu[i] + float64(float64(g.lam[i]/vf)*(c-g.mu[i]))
	}
	g.synth(out, co)
}

// exemplarLog returns the exemplar components' log likelihood of x as the
// generic component's weight weighs it: that of the component centred on
// their posterior mean m (before the shrink towards x), given rr =
// ‖x − m‖², the smooth coefficients cr of x − m with their weights gw
// (smooth.weights; nil without a smooth subspace) and v = s² + σ²:
// −‖x − m‖²/(2v) + Σ_i gw_i·cr_i² − ½·log det Σ, Σ = v on the rough part
// and v + λ_i along each smooth coefficient.
//
// Why m and not the exact mixture evidence: below σ = 6 the exemplar
// posterior is local (local.go), a collage of pieces at several shifts
// that no whole component is near; judged against whole components, such a
// txt2img latent would hand the last steps to the generic component,
// which keeps their noise. Judged against m, it stays with the exemplars,
// while an img2img input that no exemplar's pieces explain still does not.
func (s *sized) exemplarLog(rr float64, cr, gw []float64, v float64) float64 {
	d := len(s.gen.mu)
	logdet := float64(float64(d) * pmath.Log(v))
	if s.sm != nil {
		for ch := 0; ch < s.sm.c; ch++ {
			for _, l := range s.sm.lam {
				logdet += pmath.Log(v+l) - pmath.Log(v)
			}
		}
	}
	q := -rr / float64(2*v)
	for i, c := range cr {
		q += float64(gw[i] * float64(c*c))
	}
	return q - float64(logdet/2)
}

// minGenericWeight: below this posterior weight the generic component's
// mean is not blended in (its share of any latent value is then below
// 1e-8 of the value's scale; skipping it saves two 2-D transforms per
// evaluation on most txt2img steps).
const minGenericWeight = 1e-9

// mixGeneric blends the generic component's posterior mean (flatMean: the
// edge-preserving prior's, see flat.go) into out, the
// exemplar components' (out = (1 − r)·out + r·D_g, r its posterior
// weight against the exemplars' log likelihood llx, exemplarLog), for
// latent xb and sig2 = σ².
func (m *Model) mixGeneric(out, xb []float32, s *sized, llx, sig2 float64) {
	llg, _ := s.gen.loglik(xb, sig2)
	r := 1 / (1 + pmath.Exp(-(m.cfg.GenericLogWeight + llg - llx)))
	if r < minGenericWeight {
		return
	}
	dg := make([]float32, len(xb))
	flatMean(dg, xb, s.gen.c, s.gen.h, s.gen.w, sig2)
	for i, o := range out {
		out[i] = float32(float64(o) + float64(r*(float64(dg[i])-float64(o))))
	}
}
