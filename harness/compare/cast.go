package compare

import (
	"math"
	"slices"
)

// minCastChroma is the chroma (OKLab units) below which a cell has no
// meaningful hue; such a cell contributes only its lightness change.
const minCastChroma = 0.02

// colourCast measures the systematic colour drift between two grids of
// cell means (ΔE×100). Each cell's change is split, in the golden cell's
// own frame, into lightness ΔL, chroma (radial) ΔC and hue (tangential)
// C·Δh; the median of each over the cells is the drift, and the result is
// its Euclidean length. A global cast, gain or hue rotation moves all cells
// alike and survives the median; an edge moving across a cell border or a
// small object appearing changes a few cells, or cells in opposite
// directions, and does not.
func colourCast(gold, got []LabStats) float64 {
	n := len(gold)
	if n == 0 || len(got) != n {
		return 0
	}
	dl, dc, dh := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range gold {
		g, o := gold[i].Mean, got[i].Mean
		dl[i] = o[0] - g[0]
		c := math.Hypot(g[1], g[2])
		if c < minCastChroma {
			continue
		}
		ua, ub := g[1]/c, g[2]/c // unit vector along the golden hue
		da, db := o[1]-g[1], o[2]-g[2]
		dc[i] = float64(da*ua) + float64(db*ub)
		dh[i] = float64(db*ua) - float64(da*ub)
	}
	ml, mc, mh := median(dl), median(dc), median(dh)
	return deltaEScale * math.Sqrt(float64(ml*ml)+float64(mc*mc)+float64(mh*mh))
}

// median of v (v is reordered).
func median(v []float64) float64 {
	slices.Sort(v)
	k := len(v) / 2
	if len(v)%2 == 0 {
		return (v[k-1] + v[k]) / 2
	}
	return v[k]
}
