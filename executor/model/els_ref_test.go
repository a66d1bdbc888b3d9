package model

import (
	"context"
	"fmt"

	"github.com/regen-dev/regen/executor/backend"
	"github.com/regen-dev/regen/executor/node"
)

// predictELSSeq is the sequential reference (the code before tiles ran
// concurrently, kept verbatim up to finishELS, which both share): the equivariant local score machine restricted to a window
// (Predict uses the global gmm posterior instead at noise levels whose
// patch size is 0: the patch covers the whole latent, fixing the layout):
// each latent position's P×P×C patch is a query over the patches of every
// exemplar at positions near it; the value is the key patch's centre pixel.
// Queries are grouped in Tile×Tile tiles that share one key bank (every
// exemplar position within Window of the tile), so each tile is one
// attention call. As in gmm, each patch is a Gaussian of width s, so
//
//	D(centre) = m + a(x_centre − m), m = Σ_j softmax_j(…) centre_j.
func (m *Model) predictELSSeq(ctx context.Context, x *node.Tensor, B, h, w int, sigma float64, bias []float32) (*node.Tensor, error) {
	P := m.patchSize(sigma)
	s := m.at(h, w)
	C, K := m.cfg.LatentChannels, m.set.K
	r, d := P/2, P*P*m.cfg.LatentChannels
	T, W := m.cfg.Tile, m.cfg.Window
	s2 := float64(m.cfg.ComponentWidth * m.cfg.ComponentWidth)
	v := s2 + float64(sigma*sigma)
	a := s2 / v

	maxPos := min(T+2*W, h) * min(T+2*W, w)
	q := make([]float32, T*T*d)
	keys := make([]float32, K*maxPos*d)
	vals := make([]float32, K*maxPos*C)
	kb := make([]float32, K*maxPos)
	o := make([]float32, T*T*C)
	out := node.NewTensor(x.Shape...)
	plane := C * h * w
	for b := 0; b < B; b++ {
		img := x.Data[b*plane : (b+1)*plane]
		for ty0 := 0; ty0 < h; ty0 += T {
			ty1 := min(ty0+T, h)
			for tx0 := 0; tx0 < w; tx0 += T {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("predict: %w", err)
				}
				tx1 := min(tx0+T, w)
				nq := 0
				for y := ty0; y < ty1; y++ {
					for xx := tx0; xx < tx1; xx++ {
						extractPatch(q[nq*d:], img, C, h, w, y, xx, r)
						nq++
					}
				}
				cy0, cy1 := max(0, ty0-W), min(h, ty1+W)
				cx0, cx1 := max(0, tx0-W), min(w, tx1+W)
				nk := 0
				for k := 0; k < K; k++ {
					ex := s.lat[k*plane : (k+1)*plane]
					for py := cy0; py < cy1; py++ {
						for px := cx0; px < cx1; px++ {
							extractPatch(keys[nk*d:], ex, C, h, w, py, px, r)
							for ch := 0; ch < C; ch++ {
								vals[nk*C+ch] = ex[(ch*h+py)*w+px]
							}
							kb[nk] = bias[k]
							nk++
						}
					}
				}
				err := m.be.Attention(ctx, &backend.AttentionArgs{NQ: nq, NK: nk, D: d, DV: C,
					Q: q[:nq*d], K: keys[:nk*d], Bias: kb[:nk], V: vals[:nk*C], Variance: float32(v), Out: o[:nq*C]})
				if err != nil {
					return nil, fmt.Errorf("predict: %w", err)
				}
				i := 0
				for y := ty0; y < ty1; y++ {
					for xx := tx0; xx < tx1; xx++ {
						for ch := 0; ch < C; ch++ {
							idx := b*plane + (ch*h+y)*w + xx
							mv := float64(o[i*C+ch])
							out.Data[idx] = float32(mv + float64(a*(float64(x.Data[idx])-mv)))
						}
						i++
					}
				}
			}
		}
	}
	m.finishELS(out, x, B, h, w, sigma)
	return out, nil
}
