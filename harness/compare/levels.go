package compare

import (
	"fmt"
	"image"
	"math"
)

// LevelStats are the mean and standard deviation of the 8-bit R, G, B and
// A levels over a region (straight alpha: the colour channels are not
// premultiplied).
type LevelStats struct {
	Mean [4]float64 `json:"mean"`
	Std  [4]float64 `json:"std"`
}

// Levels are the 8-bit level statistics of a whole image and of the same
// 4×4 grid as ColourStats. They carry what OKLab cannot: alpha, judged as
// a channel of its own, and channel levels whose differences are linear in
// the quantised values, so that symmetric noise has no systematic part.
type Levels struct {
	Global LevelStats   `json:"global"`
	Grid   []LevelStats `json:"grid"`
}

// opaque reports whether every pixel the statistics cover has alpha 255.
func (l *Levels) opaque() bool {
	return l.Global.Mean[3] == 255 && l.Global.Std[3] == 0
}

// channelNames name the Levels channels in reasons and notes.
var channelNames = [4]string{"red", "green", "blue", "alpha"}

// levelStats computes the level statistics of px, summing in float64 in
// row-major order so the result is the same run to run.
func levelStats(px *image.NRGBA) *Levels {
	type acc struct {
		n       float64
		sum, sq [4]float64
	}
	w, h := px.Rect.Dx(), px.Rect.Dy()
	cells := make([]acc, gridSize*gridSize)
	for y := 0; y < h; y++ {
		cy := y * gridSize / h
		row := px.Pix[y*px.Stride : y*px.Stride+4*w]
		for x := 0; x < w; x++ {
			c := &cells[cy*gridSize+x*gridSize/w]
			c.n++
			for ch := range 4 {
				v := float64(row[4*x+ch])
				c.sum[ch] += v
				c.sq[ch] += float64(v * v)
			}
		}
	}
	var global acc
	for _, c := range cells {
		global.n += c.n
		for ch := range 4 {
			global.sum[ch] += c.sum[ch]
			global.sq[ch] += c.sq[ch]
		}
	}
	finish := func(a acc) (s LevelStats) {
		if a.n == 0 {
			return s
		}
		for ch := range 4 {
			m := a.sum[ch] / a.n
			s.Mean[ch] = m
			s.Std[ch] = math.Sqrt(math.Max(a.sq[ch]/a.n-float64(m*m), 0))
		}
		return s
	}
	out := &Levels{Global: finish(global), Grid: make([]LevelStats, len(cells))}
	for i, c := range cells {
		out.Grid[i] = finish(c)
	}
	return out
}

// alphaScale converts a difference of 8-bit alpha levels to the reported
// unit, percent of full opacity.
const alphaScale = 100.0 / 255

// alphaMetrics are the colour tier's alpha metrics: the change of the mean
// alpha over the image and over the worst grid cell (gated), and the
// largest change of its spread (informational), in percent of full
// opacity; worst is the cell whose mean moved most.
func alphaMetrics(g, o *Levels, t Thresholds) (ms []Metric, worst int) {
	mean := alphaScale * math.Abs(o.Global.Mean[3]-g.Global.Mean[3])
	spread := alphaScale * math.Abs(o.Global.Std[3]-g.Global.Std[3])
	cell := 0.0
	for i := range g.Grid {
		if d := alphaScale * math.Abs(o.Grid[i].Mean[3]-g.Grid[i].Mean[3]); d > cell {
			cell, worst = d, i
		}
		spread = math.Max(spread, alphaScale*math.Abs(o.Grid[i].Std[3]-g.Grid[i].Std[3]))
	}
	return []Metric{
		gated("alpha_mean_delta", mean, t.AlphaMean, "% opacity"),
		gated("alpha_cell_delta", cell, t.AlphaCell, "% opacity"),
		info("alpha_spread_delta", spread, "% opacity"),
	}, worst
}

// alphaChange describes how the alpha channel changed, for a reason:
// "alpha changed: mean 255 → 229.5 levels, in 4096 px by ≥ 3 levels"; empty when it did not (or is
// not known).
func alphaChange(g, o *Levels, changedPx, minLSB int) string {
	if g == nil || o == nil {
		return ""
	}
	moved := g.Global.Mean[3] != o.Global.Mean[3] || g.Global.Std[3] != o.Global.Std[3]
	for i := range g.Grid {
		moved = moved || g.Grid[i].Mean[3] != o.Grid[i].Mean[3]
	}
	if !moved && changedPx == 0 {
		return ""
	}
	s := fmt.Sprintf("alpha changed: mean %s → %s levels", formatValue(round2(g.Global.Mean[3])), formatValue(round2(o.Global.Mean[3])))
	if changedPx > 0 {
		s += fmt.Sprintf(", in %d px by ≥ %d levels", changedPx, max(1, minLSB))
	}
	return s
}

// biasMetrics are the colour tier's systematic-shift metrics: bias_z, the
// largest |z| (channelBias) of a channel whose cell means moved by at
// least BiasMinLevels on average (0 when none did), gated by BiasZ; and
// bias_levels, that channel's signed mean shift (or, when none qualifies,
// the largest one's), informational. The floor keeps out what benign
// noise can do systematically: re-quantising a flat channel moves it by
// up to half a level.
func biasMetrics(g, o *Levels, t Thresholds) ([]Metric, string) {
	mean, z, same := channelBias(g, o)
	pick, qualified := 0, false
	for c := range 4 {
		q := math.Abs(mean[c]) >= t.BiasMinLevels && mean[c] != 0
		switch {
		case q && (!qualified || math.Abs(z[c]) > math.Abs(z[pick])):
			pick, qualified = c, true
		case !q && !qualified && math.Abs(mean[c]) > math.Abs(mean[pick]):
			pick = c
		}
	}
	value := 0.0
	if qualified {
		value = math.Abs(z[pick])
	}
	note := fmt.Sprintf("bias: %s %+.3g levels per cell on average (z %.3g, %d of %d cells one way)",
		channelNames[pick], mean[pick], z[pick], same[pick], len(g.Grid))
	if !qualified {
		note += fmt.Sprintf(", no channel moved ≥ bias_min_levels %s", formatValue(t.BiasMinLevels))
	}
	z0 := gated("bias_z", value, t.BiasZ, "σ")
	if qualified {
		z0.Detail = fmt.Sprintf("%s %+.3g levels, %d of %d cells one way", channelNames[pick], mean[pick], same[pick], len(g.Grid))
	}
	return []Metric{z0, info("bias_levels", mean[pick], "levels")}, note
}

// biasMinSpread is the smallest spread of the per-cell differences (8-bit
// levels) that the bias statistic divides by: a shift that is exactly the
// same in every cell (a flat image) is as systematic as it gets, and the
// statistic stays finite.
const biasMinSpread = 0.05

// channelBias is the systematic part of the change of each channel
// (R, G, B, A): over the grid cells, the mean signed difference of the
// cell means (8-bit levels) and that mean measured against its own spread,
// z = mean / (std / √cells), a t statistic. Benign noise (±1 LSB jitter,
// float re-quantisation) is symmetric in the levels: its cell differences
// scatter around 0, so z stays within a few units and the mean within
// hundredths of a level. A gain, a cast or an offset moves every cell the
// same way: z grows with the number of pixels behind each cell mean.
// Levels are used, not OKLab: the cube root makes symmetric noise on a
// dark channel move OKLab means systematically.
func channelBias(g, o *Levels) (mean, z [4]float64, same [4]int) {
	n := float64(len(g.Grid))
	if n < 2 || len(o.Grid) != len(g.Grid) {
		return mean, z, same
	}
	for c := range 4 {
		var sum, sq float64
		pos, neg := 0, 0
		for i := range g.Grid {
			d := o.Grid[i].Mean[c] - g.Grid[i].Mean[c]
			sum += d
			sq += float64(d * d)
			switch {
			case d > 0:
				pos++
			case d < 0:
				neg++
			}
		}
		m := sum / n
		sd := math.Sqrt(math.Max(sq-float64(float64(n*m)*m), 0) / (n - 1))
		mean[c] = m
		z[c] = m / (math.Max(sd, biasMinSpread) / math.Sqrt(n))
		same[c] = max(pos, neg)
	}
	return mean, z, same
}

// driftMetrics are the colour tier's pixel-level systematic-shift metrics,
// measured where both sides' pixels are at hand (loc): drift_z, the
// largest |z| of the sign test of a channel (localStats.up, down) whose
// net count moved at least DriftMinRatio of the n pixels (0 when none
// did), gated by DriftZ; and drift_ratio, that channel's signed net
// fraction (or, when none qualifies, the largest one's), informational.
// Where bias_z asks whether the cell means moved together, this asks
// whether the pixels did: a gain moves a cell mean in proportion to its
// level, so across cells of different levels the mean shift has a spread
// of its own, but every pixel still moves up.
func driftMetrics(loc *localStats, n int, t Thresholds) ([]Metric, string) {
	var ratio, z [3]float64
	for c := range 3 {
		d, m := float64(loc.up[c]-loc.down[c]), float64(loc.up[c]+loc.down[c])
		if n > 0 {
			ratio[c] = d / float64(n)
		}
		if m > 0 {
			z[c] = d / math.Sqrt(m)
		}
	}
	pick, qualified := 0, false
	for c := range 3 {
		q := math.Abs(ratio[c]) >= t.DriftMinRatio && ratio[c] != 0
		switch {
		case q && (!qualified || math.Abs(z[c]) > math.Abs(z[pick])):
			pick, qualified = c, true
		case !q && !qualified && math.Abs(ratio[c]) > math.Abs(ratio[pick]):
			pick = c
		}
	}
	value := 0.0
	if qualified {
		value = math.Abs(z[pick])
	}
	note := fmt.Sprintf("drift: %s %d up, %d down (net %+.3g of the pixels, z %.3g)",
		channelNames[pick], loc.up[pick], loc.down[pick], ratio[pick], z[pick])
	if !qualified {
		note += fmt.Sprintf(", no channel's net ≥ drift_min_ratio %s", formatValue(t.DriftMinRatio))
	}
	m := gated("drift_z", value, t.DriftZ, "σ")
	if qualified {
		m.Detail = fmt.Sprintf("%s %d up, %d down", channelNames[pick], loc.up[pick], loc.down[pick])
	}
	return []Metric{m, info("drift_ratio", ratio[pick], "fraction")}, note
}
