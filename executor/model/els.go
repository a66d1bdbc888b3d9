package model

import (
	"context"
	"fmt"
	"runtime"

	"github.com/regen-dev/regen/executor/node"
)

// patchSize returns the ELS patch edge for noise level sigma.
func (m *Model) patchSize(sigma float64) int {
	ps := m.cfg.Patches
	for _, p := range ps {
		if sigma >= p.MinSigma {
			return p.Size
		}
	}
	return ps[len(ps)-1].Size
}

// extractPatch writes the P×P×C patch (order dy, dx, c) of lat [C,h,w]
// centred on (y, x) into dst, clamping at the borders.
func extractPatch(dst, lat []float32, c, h, w, y, x, r int) {
	i := 0
	for dy := -r; dy <= r; dy++ {
		yy := clampInt(y+dy, 0, h-1)
		for dx := -r; dx <= r; dx++ {
			xx := clampInt(x+dx, 0, w-1)
			for ch := 0; ch < c; ch++ {
				dst[i] = lat[(ch*h+yy)*w+xx]
				i++
			}
		}
	}
}

// predictELS is the equivariant local score machine restricted to a window
// (Predict uses the global gmm posterior instead at noise levels whose
// patch size is 0: the patch covers the whole latent, fixing the layout):
// each latent position's P×P×C patch is a query over the patches of every
// exemplar at positions near it; the value is the key patch's centre pixel.
// Queries are grouped in Tile×Tile tiles that share one key bank (every
// exemplar position within Window of the tile), so each tile is one
// attention call. As in gmm, each patch is a Gaussian of width s, so
//
//	D(centre) = m + a(x_centre − m), m = Σ_j softmax_j(…) centre_j.
//
// Tiles are independent, so they run on runtime.GOMAXPROCS(0) workers (see
// elsJob.run); the bits do not depend on the worker count.
func (m *Model) predictELS(ctx context.Context, x *node.Tensor, B, h, w int, sigma float64, bias []float32) (*node.Tensor, error) {
	return m.predictELSWorkers(ctx, x, B, h, w, sigma, bias, runtime.GOMAXPROCS(0))
}

// predictELSWorkers is predictELS on the given number of workers (≥ 1).
func (m *Model) predictELSWorkers(ctx context.Context, x *node.Tensor, B, h, w int, sigma float64, bias []float32, workers int) (*node.Tensor, error) {
	P := m.patchSize(sigma)
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + float64(sigma*sigma)
	j := &elsJob{
		be: m.be, x: x, out: node.NewTensor(x.Shape...), sz: m.at(h, w), pad: m.cfg.maxPatchRadius(), bias: bias,
		B: B, C: m.cfg.LatentChannels, K: m.set.K, h: h, w: w,
		r: P / 2, d: P * P * m.cfg.LatentChannels, T: m.cfg.Tile, W: m.cfg.Window,
		v: v, a: s2 / v,
	}
	if err := j.run(ctx, workers); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	m.finishELS(j.out, x, B, h, w, sigma)
	return j.out, nil
}

// finishELS turns the patch posterior's output (out = m + a(x − m) per
// value, a = s²/(s²+σ²)) into the els prediction: the smooth subspace
// (widenSmooth), then, at the noise levels where it takes part, the
// generic component (els_generic.go), which needs x − m from before
// widenSmooth changes out.
func (m *Model) finishELS(out, x *node.Tensor, B, h, w int, sigma float64) {
	var res []float32
	if sigma >= elsGenericMinSigma && sigma < elsGenericMaxSigma && !m.noELSGeneric {
		s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
		a := s2 / (s2 + float64(sigma*sigma))
		res = make([]float32, len(x.Data))
		for i, o := range out.Data {
			res[i] = float32((float64(x.Data[i]) - float64(o)) / (1 - a))
		}
	}
	m.widenSmooth(out, x, B, h, w, sigma)
	if res != nil {
		s := m.at(h, w)
		d := m.cfg.LatentChannels * h * w
		for b := 0; b < B; b++ {
			m.mixELSGeneric(out.Data[b*d:(b+1)*d], x.Data[b*d:(b+1)*d], res[b*d:(b+1)*d], s, sigma)
		}
	}
}

// widenSmooth gives the els prediction the gmm components' smooth
// subspace (see components.go): out = m + a1(x−m) on entry, and
// (a2−a1)·P(x−m) is added, so the smooth part of x (its colour and
// lighting field) is kept as the global posterior keeps it. A no-op
// without a smooth subspace or at σ = 0.
func (m *Model) widenSmooth(out, x *node.Tensor, B, h, w int, sigma float64) {
	s := m.at(h, w)
	if s.sm == nil || sigma <= 0 {
		return
	}
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + float64(sigma*sigma)
	a := s2 / v
	_, gain := s.sm.weights(s2, v)
	d := m.cfg.LatentChannels * h * w
	r := make([]float32, d)
	cr := make([]float64, s.sm.dim())
	for b := 0; b < B; b++ {
		xb, ob := x.Data[b*d:(b+1)*d], out.Data[b*d:(b+1)*d]
		// x − m = (x − out)/(1 − a)
		for i := range r {
			r[i] = float32((float64(xb[i]) - float64(ob[i])) / (1 - a))
		}
		s.sm.coefs(cr, r)
		s.sm.addProjection(ob, cr, gain)
	}
}
