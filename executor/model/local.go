package model

import (
	"math"

	"github.com/regen-dev/regen/internal/pmath"
)

// The local posterior (issue 13): below a noise level the gmm denoiser
// stops weighing each component by its distance to the whole latent and
// weighs it cell by cell instead. The latent is cut into g×g cells; cell c
// scores every component by the distance, over c and its eight
// neighbours, between the rough parts (the smooth subspace removed) of x
// and of the component, under a prior that the whole latent sets: the
// whole latent's exact posterior over exemplars (all shifts summed) times its
// posterior over that exemplar's shifts tempered by shiftCoupling. Which
// scene a cell draws from is thus decided globally, and where its piece
// sits mostly locally. The posterior mean in a latent pixel blends the four
// nearest cells' means bilinearly.
//
// Why: the global posterior over a few dozen components decides the whole
// picture at high σ (log-odds of tens of nats by σ ≈ 3.7 on the README's
// example), after which every sampler and schedule contracts onto the same
// exemplar and only the smooth colour field differs. A cell sees a
// fraction of the evidence, so its decision (which shift, which exemplar's
// edge) is taken later, at lower σ, where samplers and schedules have
// moved the trajectory apart: edges, shapes and object positions then
// differ per sampler, while the layout decided earlier stays. The shifts
// of 1/16 of the side (fixtures/gen) give each cell near neighbours to
// choose between.
//
// Cost: one pass over every component's rough latent (the distances) and
// a blend of the active components per pixel, about as much work as the
// global attention it replaces (it runs on the CPU in Go, in a fixed
// order; see localMean).

// shiftCoupling tempers the whole latent's evidence for a shift in every
// cell's prior: 1 lets the whole latent decide where every cell's piece
// sits (the global posterior's layout, nothing decided late), 0 lets each
// cell place its piece alone (circles broken into pieces).
const shiftCoupling = 0.3

// minCellPixels is the smallest cell side in latent pixels. A cell of one
// latent pixel (16 cells on the 16×16 latent of a 128² image) holds too
// little evidence to place its piece: neighbouring cells then take the
// same exemplar at different shifts, and a shape comes out doubled,
// notched or smeared (issue 13's ghosting); with 2×2-pixel cells its
// 3×3-cell neighbourhood spans 6×6 pixels and neighbours agree.
const minCellPixels = 2

// localPrune: exemplars whose whole-latent log posterior is this many nats
// below the best one's are not candidates in any cell (their prior weight
// there is below e^-49 of the best component's).
const localPrune = 50

// localCells returns the number of cells per side for noise level sigma
// (0: the global posterior).
func (m *Model) localCells(sigma float64) int {
	ls := m.cfg.Local
	for _, l := range ls {
		if sigma >= l.MinSigma {
			return l.Cells
		}
	}
	if len(ls) > 0 {
		return ls[len(ls)-1].Cells
	}
	return 0
}

// roughOf returns the component j's rough part (μ_j less its projection
// onto the smooth subspace; μ_j itself without one), made on first use.
func (s *sized) roughOf(j int) []float32 {
	d := len(s.lat) / s.n
	s.roughMu.Lock()
	defer s.roughMu.Unlock()
	if r := s.rough[j]; r != nil {
		return r
	}
	r := s.lat[j*d : (j+1)*d]
	if s.sm != nil {
		r = append([]float32(nil), r...)
		s.sm.addProjection(r, s.coef[j*s.sm.dim():(j+1)*s.sm.dim()], s.negOnes())
	}
	s.rough[j] = r
	return r
}

// negOnes returns the gains that make addProjection subtract the
// projection.
func (s *sized) negOnes() []float64 {
	g := make([]float64, s.sm.dim())
	for i := range g {
		g[i] = -1
	}
	return g
}

// dot4 returns ⟨a, b⟩ in float64, summed in four interleaved partial sums
// (a fixed order: element i goes to sum i mod 4) combined as
// (s0 + s1) + (s2 + s3).
func dot4(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(float64(a[i]) * float64(b[i]))
		s1 += float64(float64(a[i+1]) * float64(b[i+1]))
		s2 += float64(float64(a[i+2]) * float64(b[i+2]))
		s3 += float64(float64(a[i+3]) * float64(b[i+3]))
	}
	for ; i < len(a); i++ {
		s0 += float64(float64(a[i]) * float64(b[i]))
	}
	return (s0 + s1) + (s2 + s3)
}

// axisCell maps a latent row (or column) to its cell and to the bilinear
// weights of the two nearest cell centres: 1−t to cell i0, t to cell i1.
type axisCell struct {
	cell, i0, i1 int
	t            float64
}

// cellAxis cuts n latent pixels into g cells (boundaries i·n/g).
func cellAxis(n, g int) []axisCell {
	centre := make([]float64, g)
	for i := range centre {
		centre[i] = float64(i*n/g+(i+1)*n/g-1) / 2
	}
	out := make([]axisCell, n)
	c := 0
	for y := range out {
		for c+1 < g && y >= (c+1)*n/g {
			c++
		}
		a := axisCell{cell: c}
		fy := float64(y)
		switch {
		case fy <= centre[0]:
		case fy >= centre[g-1]:
			a.i0, a.i1 = g-1, g-1
		default:
			i := 0
			for centre[i+1] <= fy {
				i++
			}
			a.i0, a.i1, a.t = i, i+1, (fy-centre[i])/(centre[i+1]-centre[i])
		}
		out[y] = a
	}
	return out
}

// globalLog returns the whole latent's exact log posterior over the
// components (up to a constant), as the global posterior weighs them
// (components.go): bias_j − ‖x − μ_j‖²/(2v) + Σ_i g_i·⟨b_i, x − μ_j⟩², the
// last term in the smooth coefficients; v = s² + σ², s2 = s².
func (m *Model) globalLog(xb []float32, s *sized, bias []float32, s2, v float64) []float64 {
	d := len(xb)
	var xc []float64
	if s.sm != nil {
		xc = make([]float64, s.sm.dim())
		s.sm.coefs(xc, xb)
	}
	var xx float64
	for _, v := range xb {
		xx += float64(float64(v) * float64(v))
	}
	var gw []float64
	if s.sm != nil {
		gw, _ = s.sm.weights(s2, v)
	}
	glog := make([]float64, s.n)
	for j := range glog {
		dd := max(xx+s.norms64[j]-float64(2*dot4(s.lat[j*d:(j+1)*d], xb)), 0)
		l := float64(bias[j]) - dd/float64(2*v)
		if s.sm != nil {
			nd := s.sm.dim()
			for i, c := range s.coef[j*nd : (j+1)*nd] {
				e := xc[i] - c
				l += float64(gw[i] * float64(e*e))
			}
		}
		glog[j] = l
	}
	return glog
}

// localMean writes the local posterior mean of the components (before the
// shrink towards x, which the caller applies as for the global mean) for
// latent xb into out, with g cells per side, given the whole latent's log
// posterior glog [n] (globalLog) and v = s² + σ². Every sum runs in a fixed order with
// products rounded explicitly, as in components.go.
func (m *Model) localMean(out, xb []float32, s *sized, g int, glog []float64, v float64) {
	C, h, w := m.cfg.LatentChannels, s.h, s.w
	g = max(1, min(g, h/minCellPixels, w/minCellPixels))
	d := C * h * w
	ay, ax := cellAxis(h, g), cellAxis(w, g)
	// x's rough part.
	xr := xb
	if s.sm != nil {
		xc := make([]float64, s.sm.dim())
		s.sm.coefs(xc, xb)
		xr = append([]float32(nil), xb...)
		s.sm.addProjection(xr, xc, s.negOnes())
	}
	// Every cell's prior over the components (up to a constant): the whole
	// latent's log posterior over exemplars, exlog (each exemplar's shifts
	// summed, from its own maximum so that it stays finite), plus its log
	// posterior over that exemplar's shifts tempered by shiftCoupling.
	// Exemplars more than localPrune nats below the best are no
	// candidates.
	K := m.set.K
	exmax := make([]float64, K)
	for k := range exmax {
		exmax[k] = math.Inf(-1)
	}
	for j, l := range glog {
		exmax[j%K] = max(exmax[j%K], l)
	}
	exsum := make([]float64, K)
	for j, l := range glog {
		exsum[j%K] += pmath.Exp(l - exmax[j%K])
	}
	exlog := make([]float64, K)
	best := math.Inf(-1)
	for k, e := range exsum {
		exlog[k] = exmax[k] + pmath.Log(e)
		best = max(best, exlog[k])
	}
	var cand []int
	for j := 0; j < s.n; j++ {
		if exlog[j%K] >= best-localPrune {
			cand = append(cand, j)
		}
	}
	lp := make([]float64, len(cand))
	for i, j := range cand {
		k := j % K
		lp[i] = exlog[k] + float64(shiftCoupling*(glog[j]-exlog[k]))
	}
	// Per candidate and cell, the squared rough distance.
	gg := g * g
	dist := make([]float64, len(cand)*gg)
	for i, j := range cand {
		rj := s.roughOf(j)
		di := dist[i*gg : (i+1)*gg]
		for ch := 0; ch < C; ch++ {
			for y := 0; y < h; y++ {
				row := di[ay[y].cell*g : (ay[y].cell+1)*g]
				o := (ch*h + y) * w
				for c := range row {
					var acc float64
					for x := c * w / g; x < (c+1)*w/g; x++ {
						e := float64(xr[o+x]) - float64(rj[o+x])
						acc += float64(e * e)
					}
					row[c] += acc
				}
			}
		}
	}
	// Per cell, the responsibilities over its 3×3-cell neighbourhood; the
	// components below a relative weight of 1e-9 are dropped.
	type weight struct {
		j int
		r float64
	}
	resp := make([][]weight, gg)
	logit := make([]float64, len(cand))
	for cy := 0; cy < g; cy++ {
		for cx := 0; cx < g; cx++ {
			top := math.Inf(-1)
			for i := range cand {
				var dd float64
				for ny := max(cy-1, 0); ny <= min(cy+1, g-1); ny++ {
					for nx := max(cx-1, 0); nx <= min(cx+1, g-1); nx++ {
						dd += dist[i*gg+ny*g+nx]
					}
				}
				logit[i] = lp[i] - dd/float64(2*v)
				top = max(top, logit[i])
			}
			var sum float64
			var ws []weight
			for i, l := range logit {
				if e := pmath.Exp(l - top); e >= 1e-9 {
					ws = append(ws, weight{cand[i], e})
					sum += e
				}
			}
			for i := range ws {
				ws[i].r /= sum
			}
			resp[cy*g+cx] = ws
		}
	}
	// Blend the four nearest cells' means per pixel.
	for ch := 0; ch < C; ch++ {
		for y := 0; y < h; y++ {
			a := ay[y]
			for x := 0; x < w; x++ {
				b := ax[x]
				i := (ch*h+y)*w + x
				var acc float64
				for _, c := range [4]struct {
					cell int
					wt   float64
				}{
					{a.i0*g + b.i0, float64((1 - a.t) * (1 - b.t))},
					{a.i0*g + b.i1, float64((1 - a.t) * b.t)},
					{a.i1*g + b.i0, float64(a.t * (1 - b.t))},
					{a.i1*g + b.i1, float64(a.t * b.t)},
				} {
					if c.wt == 0 {
						continue
					}
					var mc float64
					for _, r := range resp[c.cell] {
						mc += float64(r.r * float64(s.lat[r.j*d+i]))
					}
					acc += float64(c.wt * mc)
				}
				out[i] = float32(acc)
			}
		}
	}
}
