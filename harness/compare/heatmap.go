package compare

import (
	"image"
	"image/color"
	"math"
)

// heatScale is the ΔE (×100) shown at full intensity in the heat-map.
const heatScale = 20.0

// heatFloor is the ΔE below which a pixel shows only the dimmed golden.
const heatFloor = 0.5

// DiffImage renders where and how much b differs from a: the per-pixel
// OKLab ΔE, colour-mapped from blue (barely) through yellow to red
// (ΔE ≥ 20), over a dimmed greyscale copy of a. When the sizes differ the
// map covers a; pixels outside b are magenta.
func DiffImage(a, b image.Image) image.Image {
	pa, pb := toNRGBA(a), toNRGBA(b)
	la, lb := toOKLab(pa), toOKLab(pb)
	return heatMap(pa, la, lb)
}

// heatMap draws the map of b against a (a's size).
func heatMap(pa *image.NRGBA, la, lb *labPlanes) *image.NRGBA {
	w, h := la.w, la.h
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			// Dimmed grey of the golden: OKLab L mapped to 25..105.
			grey := 25 + float64(80*clamp01(float64(la.L[i])))
			r, g, bl := grey, grey, grey
			if x >= lb.w || y >= lb.h {
				r, g, bl = 255, 0, 255
			} else {
				j := y*lb.w + x
				dl, da, db := float64(la.L[i]-lb.L[j]), float64(la.A[i]-lb.A[j]), float64(la.B[i]-lb.B[j])
				d := deltaEScale * math.Sqrt(float64(dl*dl)+float64(da*da)+float64(db*db))
				if d >= heatFloor {
					t := math.Sqrt(clamp01(d / heatScale))
					cr, cg, cb := ramp(t)
					alpha := 0.45 + float64(0.55*t)
					r = float64(grey*(1-alpha)) + float64(cr*alpha)
					g = float64(grey*(1-alpha)) + float64(cg*alpha)
					bl = float64(grey*(1-alpha)) + float64(cb*alpha)
				}
			}
			o := out.Pix[4*i : 4*i+4 : 4*i+4]
			o[0], o[1], o[2], o[3] = uint8(r+0.5), uint8(g+0.5), uint8(bl+0.5), 0xff
		}
	}
	return out
}

// ramp maps t in [0,1] to blue → cyan → yellow → red.
func ramp(t float64) (r, g, b float64) {
	stops := [...]color.RGBA{{40, 90, 255, 0}, {0, 220, 255, 0}, {255, 230, 0, 0}, {255, 20, 20, 0}}
	pos := float64(t * float64(len(stops)-1))
	k := min(int(pos), len(stops)-2)
	f := pos - float64(k)
	lerp := func(a, b uint8) float64 { return float64(float64(a)*(1-f)) + float64(float64(b)*f) }
	s, e := stops[k], stops[k+1]
	return lerp(s.R, e.R), lerp(s.G, e.G), lerp(s.B, e.B)
}

func clamp01(v float64) float64 {
	return math.Min(1, math.Max(0, v))
}
