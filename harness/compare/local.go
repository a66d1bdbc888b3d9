package compare

import (
	"image"
	"math"
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
}

// pixelDeltaE returns the per-pixel ΔE (×100) between two same-sized
// OKLab images.
func pixelDeltaE(a, b *labPlanes) []float32 {
	d := make([]float32, len(a.L))
	for i := range d {
		dl, da, db := float64(a.L[i]-b.L[i]), float64(a.A[i]-b.A[i]), float64(a.B[i]-b.B[i])
		d[i] = float32(deltaEScale * math.Sqrt(float64(dl*dl)+float64(da*da)+float64(db*db)))
	}
	return d
}

// maxLSB is the largest 8-bit channel difference (RGB) of pixel i.
func maxLSB(a, b *image.NRGBA, i int) int {
	m := 0
	pa, pb := a.Pix[4*i:4*i+3:4*i+3], b.Pix[4*i:4*i+3:4*i+3]
	for c := range 3 {
		d := int(pa[c]) - int(pb[c])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}

// local computes the changed-pixel mask and its densest window with a
// summed-area table. A pixel is in the mask when its colour changed (ΔE
// and an 8-bit colour channel) or its alpha did: alpha is a channel of its
// own, invisible to OKLab.
func local(a, b *image.NRGBA, dE []float32, t Thresholds) localStats {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var st localStats
	// sat has a zero first row and column: sat[(y+1)*(w+1)+(x+1)] is the
	// number of changed pixels in [0,x]×[0,y].
	sat := make([]int32, (w+1)*(h+1))
	for y := 0; y < h; y++ {
		var run int32
		for x := 0; x < w; x++ {
			i := y*w + x
			st.maxDeltaE = max(st.maxDeltaE, float64(dE[i]))
			da := int(a.Pix[4*i+3]) - int(b.Pix[4*i+3])
			da = max(da, -da)
			st.maxAlpha = max(st.maxAlpha, da)
			alpha := da >= max(1, t.PixelAlphaLSB)
			if alpha {
				st.alphaChanged++
			}
			if alpha || float64(dE[i]) > t.PixelDeltaE && maxLSB(a, b, i) >= t.PixelMinLSB {
				run++
				st.changed++
			}
			sat[(y+1)*(w+1)+x+1] = sat[y*(w+1)+x+1] + run
		}
	}
	st.globalRatio = float64(st.changed) / float64(w*h)
	win := min(t.Window, w, h)
	best := int32(-1)
	for y := 0; y+win <= h; y++ {
		for x := 0; x+win <= w; x++ {
			n := sat[(y+win)*(w+1)+x+win] - sat[y*(w+1)+x+win] - sat[(y+win)*(w+1)+x] + sat[y*(w+1)+x]
			if n > best {
				best, st.windowAt = n, image.Point{X: x, Y: y}
			}
		}
	}
	st.windowRatio = float64(best) / float64(win*win)
	return st
}
