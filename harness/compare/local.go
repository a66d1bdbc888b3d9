package compare

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// localStats is the outcome of tier 4.
type localStats struct {
	changed     int     // pixels in the mask
	windowRatio float64 // densest W×W window's changed fraction
	windowAt    image.Point
	globalRatio float64
	maxDeltaE   float64
	// alphaChanged counts the pixels whose alpha moved by at least
	// PixelAlphaLSB levels (they are in the mask whatever their colour
	// did); maxAlpha is the largest alpha change.
	alphaChanged int
	maxAlpha     int
	// up and down count, per colour channel (R, G, B), the pixels whose
	// level rose or fell, among those whose golden level is neither 0 nor
	// 255 (a clipped level can only move one way, so ±1 LSB noise there
	// would look systematic) and differs from a 4-neighbour's (see
	// countDrift). See driftMetrics.
	up, down [3]int
}

// countDrift adds the signed level changes of pixel x of a golden row
// (NRGBA bytes), whose output is o, to st's up and down counts; above and
// below are the golden rows beside it (driftRows). Only pixels on a level
// edge of their channel in the golden count (beside an unclipped other
// level, edgeBit): inside a flat region every pixel
// holds the same float value, so float jitter re-rounds them all the same
// way, one level up or down, which no sign test could tell from a small
// gain; on an edge between levels v and v+1 both sides hold values near
// v+½, one side's flips go up and the other's down. A gain, a cast or a
// hue rotation moves the edges as it moves the rest.
//
// It takes no branch on the levels (a pixel's channels move up, down or not
// at random under noise, and the branches of a test per channel were most
// of a noisy pair's mispredictions): a missing neighbour, at the image's
// border, is read as the pixel itself, which is never an edge.
func (st *localStats) countDrift(row, above, below []byte, x int, o []byte) {
	i, l, r := 4*x, 4*max(x-1, 0), 4*min(x+1, len(row)/4-1)
	g, nu, nd := row[i:i+4:i+4], above[i:i+4:i+4], below[i:i+4:i+4]
	nl, nr := row[l:l+4:l+4], row[r:r+4:r+4]
	o = o[:4:4]
	for c := range 3 {
		gv, ov := g[c], o[c]
		// Counted: gv unclipped (gv−1 wraps 0 to 255, 255 to 254) with an
		// edge; up or down by the sign of the change (0 when none).
		live := b2i(gv-1 < 254) & (edgeBit(gv, nl[c]) | edgeBit(gv, nr[c]) | edgeBit(gv, nu[c]) | edgeBit(gv, nd[c]))
		st.up[c] += live & b2i(ov > gv)
		st.down[c] += live & b2i(ov < gv)
	}
}

// driftRows are golden's row y and the rows above and below it, for
// countDrift: the row itself where there is none (at the top and bottom).
func driftRows(golden *image.NRGBA, y int) (row, above, below []byte) {
	w, h := golden.Rect.Dx(), golden.Rect.Dy()
	at := func(y int) []byte { return golden.Pix[y*golden.Stride : y*golden.Stride+4*w] }
	return at(y), at(max(y-1, 0)), at(min(y+1, h-1))
}

// edgeBit is 1 when a neighbour's level n makes a level edge for level v
// that countDrift counts, else 0: it differs, and is not clipped (n−1
// wraps 0 to 255, 255 to 254). At an edge with a clipped level (255
// beside 254) only the unclipped side would count, and its flips all go
// one way (towards the clip).
func edgeBit(v, n byte) int { return b2i(n != v) & b2i(n-1 < 254) }

// b2i is 1 for true, 0 for false (a SETcc, not a branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pixelDeltaE is the ΔE (×100) between two OKLab colours, as float32.
func pixelDeltaE(a, b [3]float32) float32 {
	return float32(deltaEOf(labDist2(a, b)))
}

// labDist2 is the squared distance between two OKLab colours that
// pixelDeltaE takes the root of.
func labDist2(a, b [3]float32) float64 {
	dl, da, db := float64(a[0]-b[0]), float64(a[1]-b[1]), float64(a[2]-b[2])
	return float64(dl*dl) + float64(da*da) + float64(db*db)
}

// deltaEOf is pixelDeltaE given labDist2, widened to float64. It is
// monotone (non-decreasing) in d2: a square root, a product and a
// rounding to float32, each correctly rounded, so the largest ΔE of a
// set of pixels is deltaEOf of their largest d2, and a pixel's ΔE need
// not be taken to know it does not exceed a maximum or a threshold it
// cannot reach.
func deltaEOf(d2 float64) float64 {
	return float64(float32(deltaEScale * math.Sqrt(d2)))
}

// maxLSB is the largest 8-bit channel difference (RGB) of two pixels.
func maxLSB(pa, pb []byte) int {
	m := 0
	for c := range 3 {
		d := int(pa[c]) - int(pb[c])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}

// local computes the changed-pixel mask and its densest window. A pixel is
// in the mask when its colour changed (ΔE and an 8-bit colour channel) or
// its alpha did: alpha is a channel of its own, invisible to OKLab.
//
// The mask is made in row bands, concurrently (counts and maxima merge
// exactly whatever the split). Colours are converted to OKLab as a band
// reaches them, through a labTable; a pixel whose colour did not change
// has ΔE 0 without either. The window is then found in one pass over the
// mask: colSum[x] counts column x over the last W rows, and a running sum
// over W columns scans each band of rows. Windows are visited top to
// bottom, then left to right, and the first densest wins, as a scan of a
// summed-area table would find it.
func local(a, b *image.NRGBA, t Thresholds) localStats {
	return localBands(a, b, t, min(runtime.GOMAXPROCS(0), max(1, a.Rect.Dy()/64)))
}

// localBands is local with the mask made in the given number of bands.
func localBands(a, b *image.NRGBA, t Thresholds, bands int) localStats {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	bands = min(max(bands, 1), h)
	mask := make([]bool, w*h)
	parts := make([]localStats, bands)
	cache := newLabTable(2 * w * h)
	defer cache.put()
	var wg sync.WaitGroup
	for k := range bands {
		wg.Go(func() { parts[k] = localMask(a, b, t, cache, mask, k*h/bands, (k+1)*h/bands) })
	}
	wg.Wait()
	return mergeLocal(parts, mask, w, h, t.Window)
}

// mergeLocal sums the bands' counts and maxima (exact in any order) and
// finds the densest window of the mask.
func mergeLocal(parts []localStats, mask []bool, w, h, window int) localStats {
	var st localStats
	for _, p := range parts {
		st.changed += p.changed
		st.alphaChanged += p.alphaChanged
		st.maxDeltaE = max(st.maxDeltaE, p.maxDeltaE)
		st.maxAlpha = max(st.maxAlpha, p.maxAlpha)
		for c := range 3 {
			st.up[c] += p.up[c]
			st.down[c] += p.down[c]
		}
	}
	st.globalRatio = float64(st.changed) / float64(w*h)
	win := localWindow(window, w, h)
	if st.changed == 0 {
		// An empty mask: every window holds 0 and the first, at (0, 0),
		// wins; the sweep (≈ 4 ms on a 1024² pair, after the pass, on
		// one core) would find the same.
		st.windowAt, st.windowRatio = image.Point{}, 0
		return st
	}
	st.windowAt, st.windowRatio = densestWindow(mask, w, h, win)
	return st
}

// densestWindow finds the first densest win×win window of mask (w×h,
// row-major), top to bottom then left to right, and its changed fraction.
func densestWindow(mask []bool, w, h, win int) (at image.Point, ratio float64) {
	colSum := make([]int32, w)
	best := int32(-1)
	for y := range h {
		for x, in := range mask[y*w : (y+1)*w] {
			if in {
				colSum[x]++
			}
		}
		if y >= win { // the row leaving the band
			for x, in := range mask[(y-win)*w : (y-win+1)*w] {
				if in {
					colSum[x]--
				}
			}
		}
		if y < win-1 {
			continue
		}
		var n int32
		for x := range win {
			n += colSum[x]
		}
		for x := 0; ; x++ {
			if n > best {
				best, at = n, image.Point{X: x, Y: y - win + 1}
			}
			if x+win >= w {
				break
			}
			n += colSum[x+win] - colSum[x]
		}
	}
	return at, float64(best) / float64(win*win)
}

// localWindow is the side of the local tier's window on a w×h image: the
// threshold's Window, but at most an eighth of the shorter side (and at
// least 1), so that the window covers at most 1/64 of the image. A change
// of a fixed fraction of the image then fills a fixed fraction of the
// window whatever the size: a 0.5 % patch fills ≥ 32 % of it (3× the
// default WindowRatio), where a 16 px window on a 64 px image would see it
// fill 25 of 256 px, under 10 %. Images of at least 8·Window px a side
// keep the full window.
func localWindow(window, w, h int) int {
	return max(1, min(window, min(w, h)/8))
}

// localMask fills mask for rows [y0, y1) and returns those rows' counts
// and maxima (the window fields unset).
func localMask(a, b *image.NRGBA, t Thresholds, cache *labTable, mask []bool, y0, y1 int) localStats {
	w := a.Rect.Dx()
	var st localStats
	alphaMin := max(1, t.PixelAlphaLSB)
	for y := y0; y < y1; y++ {
		rowA, above, below := driftRows(a, y)
		rowB := b.Pix[y*b.Stride : y*b.Stride+4*w]
		row := mask[y*w : (y+1)*w]
		for x := range w {
			pa, pb := rowA[4*x:4*x+4:4*x+4], rowB[4*x:4*x+4:4*x+4]
			dE := 0.0
			if pa[0] != pb[0] || pa[1] != pb[1] || pa[2] != pb[2] {
				dE = float64(pixelDeltaE(cache.get(pa[0], pa[1], pa[2]), cache.get(pb[0], pb[1], pb[2])))
				st.countDrift(rowA, above, below, x, pb)
			}
			st.maxDeltaE = max(st.maxDeltaE, dE)
			da := int(pa[3]) - int(pb[3])
			da = max(da, -da)
			st.maxAlpha = max(st.maxAlpha, da)
			alpha := da >= alphaMin
			if alpha {
				st.alphaChanged++
			}
			in := alpha || dE > t.PixelDeltaE && maxLSB(pa, pb) >= t.PixelMinLSB
			row[x] = in
			if in {
				st.changed++
			}
		}
	}
	return st
}
