package model

// Resample resizes a stack of planes src [n, H, W] to [n, h, w] exactly as
// the model resizes its exemplars (the generator builds codebooks with it).
func Resample(src []float32, n, H, W, h, w int) []float32 { return resample(src, n, H, W, h, w) }

// resample resizes a stack of planes src [n, H, W] to [n, h, w] with an
// antialiased bilinear (triangle) filter: plain bilinear with half-pixel
// centres when enlarging, a triangle of the source footprint's width when
// shrinking. Weights are renormalised at the borders.
func resample(src []float32, n, H, W, h, w int) []float32 {
	if H == h && W == w {
		return append([]float32(nil), src...)
	}
	wy := filterTaps(H, h)
	wx := filterTaps(W, w)
	tmp := make([]float64, n*H*w) // rows resampled first
	for p := 0; p < n; p++ {
		for y := 0; y < H; y++ {
			row := src[(p*H+y)*W : (p*H+y+1)*W]
			for x, t := range wx {
				var s float64
				for i, wt := range t.w {
					s += float64(wt * float64(row[t.first+i]))
				}
				tmp[(p*H+y)*w+x] = s
			}
		}
	}
	out := make([]float32, n*h*w)
	for p := 0; p < n; p++ {
		for y, t := range wy {
			for x := 0; x < w; x++ {
				var s float64
				for i, wt := range t.w {
					s += float64(wt * tmp[(p*H+t.first+i)*w+x])
				}
				out[(p*h+y)*w+x] = float32(s)
			}
		}
	}
	return out
}

type taps struct {
	first int
	w     []float64
}

// filterTaps returns, for each of the m output samples, the source samples
// (of n) and normalised weights.
func filterTaps(n, m int) []taps {
	scale := float64(n) / float64(m)
	support := max(scale, 1)
	out := make([]taps, m)
	for o := range out {
		centre := float64((float64(o)+0.5)*scale) - 0.5
		lo := int(centre - support)
		if float64(lo) < centre-support {
			lo++
		}
		lo = max(lo, 0)
		var ws []float64
		var sum float64
		first := -1
		for s := lo; s < n && float64(s) < centre+support; s++ {
			d := (float64(s) - centre) / support
			if d < 0 {
				d = -d
			}
			wt := 1 - d
			if wt <= 0 {
				continue
			}
			if first < 0 {
				first = s
			}
			for len(ws) < s-first {
				ws = append(ws, 0)
			}
			ws = append(ws, wt)
			sum += wt
		}
		if first < 0 { // centre outside the source: nearest sample
			first, ws, sum = clampInt(int(centre+0.5), 0, n-1), []float64{1}, 1
		}
		for i := range ws {
			ws[i] /= sum
		}
		out[o] = taps{first: first, w: ws}
	}
	return out
}
