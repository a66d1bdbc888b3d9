package compare

import (
	"image"
	"math"
	"math/rand/v2"
)

// floatImage is a test image in float sRGB, [0,1] per channel, row-major.
type floatImage struct {
	w, h int
	pix  []float64 // 3 per pixel
}

// synth draws a deterministic test image: a smooth four-corner gradient,
// a few anti-aliased discs and rectangles, and fine texture (sinusoids plus
// per-pixel grain). Values stay in [0.03, 0.97] so ±1 LSB never clips.
func synth(seed uint64, w, h int) *floatImage {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	col := func() [3]float64 {
		return [3]float64{0.1 + 0.8*rng.Float64(), 0.1 + 0.8*rng.Float64(), 0.1 + 0.8*rng.Float64()}
	}
	corners := [4][3]float64{col(), col(), col(), col()}
	type shape struct {
		disc      bool
		cx, cy, r float64 // disc; rectangles use cx,cy as centre, r and r2 as half sides
		r2        float64
		colour    [3]float64
		opacity   float64
	}
	var shapes []shape
	for k := range 5 {
		shapes = append(shapes, shape{
			disc: k%2 == 0,
			cx:   float64(w) * (0.15 + 0.7*rng.Float64()), cy: float64(h) * (0.15 + 0.7*rng.Float64()),
			r: float64(w) * (0.06 + 0.12*rng.Float64()), r2: float64(h) * (0.05 + 0.1*rng.Float64()),
			colour: col(), opacity: 0.7 + 0.3*rng.Float64(),
		})
	}
	fx, fy, ph := 0.6+0.6*rng.Float64(), 0.6+0.6*rng.Float64(), 2*math.Pi*rng.Float64()
	img := &floatImage{w: w, h: h, pix: make([]float64, 3*w*h)}
	for y := range h {
		v := float64(y) / float64(h-1)
		for x := range w {
			u := float64(x) / float64(w-1)
			var c [3]float64
			for ch := range 3 {
				c[ch] = (1-u)*(1-v)*corners[0][ch] + u*(1-v)*corners[1][ch] + (1-u)*v*corners[2][ch] + u*v*corners[3][ch]
			}
			px, py := float64(x)+0.5, float64(y)+0.5
			for _, s := range shapes {
				var d float64 // signed distance, negative inside
				if s.disc {
					d = math.Hypot(px-s.cx, py-s.cy) - s.r
				} else {
					d = math.Max(math.Abs(px-s.cx)-s.r, math.Abs(py-s.cy)-s.r2)
				}
				cov := s.opacity * math.Min(1, math.Max(0, 0.5-d))
				for ch := range 3 {
					c[ch] = c[ch]*(1-cov) + s.colour[ch]*cov
				}
			}
			tex := 0.03*math.Sin(fx*float64(x)+ph)*math.Sin(fy*float64(y)) + 0.025*(rng.Float64()-0.5)
			for ch := range 3 {
				img.pix[3*(y*w+x)+ch] = math.Min(0.97, math.Max(0.03, c[ch]+tex))
			}
		}
	}
	return img
}

// quantise rounds f (plus an optional per-channel offset in LSB) to 8 bits.
func (f *floatImage) quantise(offset func() float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, f.w, f.h))
	for i := 0; i < f.w*f.h; i++ {
		for ch := range 3 {
			v := f.pix[3*i+ch] * 255
			if offset != nil {
				v += offset()
			}
			img.Pix[4*i+ch] = clamp8(math.Floor(v + 0.5))
		}
		img.Pix[4*i+3] = 0xff
	}
	return img
}

func clamp8(v float64) uint8 {
	return uint8(math.Min(255, math.Max(0, v)))
}

// mapPixels applies fn to every pixel's RGB (8-bit in, float 0..255 out).
func mapPixels(src *image.NRGBA, fn func(r, g, b float64) (float64, float64, float64)) *image.NRGBA {
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	for i := 0; i < len(out.Pix); i += 4 {
		r, g, b := fn(float64(src.Pix[i]), float64(src.Pix[i+1]), float64(src.Pix[i+2]))
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = clamp8(math.Floor(r+0.5)), clamp8(math.Floor(g+0.5)), clamp8(math.Floor(b+0.5))
	}
	return out
}

// hueRotate rotates every pixel's OKLab hue by deg degrees.
func hueRotate(src *image.NRGBA, deg float64) *image.NRGBA {
	s, c := math.Sincos(deg * math.Pi / 180)
	return mapPixels(src, func(r, g, b float64) (float64, float64, float64) {
		L, A, B := linearToOKLab(srgbToLinear(r/255), srgbToLinear(g/255), srgbToLinear(b/255))
		A, B = A*c-B*s, A*s+B*c
		lr, lg, lb := okLabToLinear(L, A, B)
		return 255 * linearToSRGB(clamp01(lr)), 255 * linearToSRGB(clamp01(lg)), 255 * linearToSRGB(clamp01(lb))
	})
}

// gain multiplies the 8-bit values of the channels in mask by 1+g.
func gain(src *image.NRGBA, g float64, mask [3]bool) *image.NRGBA {
	k := func(ch int) float64 {
		if mask[ch] {
			return 1 + g
		}
		return 1
	}
	return mapPixels(src, func(r, gr, b float64) (float64, float64, float64) {
		return r * k(0), gr * k(1), b * k(2)
	})
}

// blur is a separable Gaussian blur with clamped edges.
func blur(src *image.NRGBA, sigma float64) *image.NRGBA {
	rad := int(math.Ceil(3 * sigma))
	kern := make([]float64, 2*rad+1)
	var sum float64
	for i := range kern {
		d := float64(i - rad)
		kern[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += kern[i]
	}
	for i := range kern {
		kern[i] /= sum
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tmp := make([]float64, 3*w*h)
	for y := range h {
		for x := range w {
			for ch := range 3 {
				var s float64
				for k, kv := range kern {
					xx := min(max(x+k-rad, 0), w-1)
					s += kv * float64(src.Pix[4*(y*w+xx)+ch])
				}
				tmp[3*(y*w+x)+ch] = s
			}
		}
	}
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	for y := range h {
		for x := range w {
			for ch := range 3 {
				var s float64
				for k, kv := range kern {
					yy := min(max(y+k-rad, 0), h-1)
					s += kv * tmp[3*(yy*w+x)+ch]
				}
				out.Pix[4*(y*w+x)+ch] = clamp8(math.Floor(s + 0.5))
			}
		}
	}
	return out
}

// shift moves the image dx pixels right and dy down, repeating the edge.
func shift(src *image.NRGBA, dx, dy int) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewNRGBA(src.Rect)
	for y := range h {
		for x := range w {
			sx, sy := min(max(x-dx, 0), w-1), min(max(y-dy, 0), h-1)
			copy(out.Pix[4*(y*w+x):4*(y*w+x)+4], src.Pix[4*(sy*w+sx):])
		}
	}
	return out
}

// patch replaces a square of the given area fraction, centred at
// (cx, cy) as fractions of the size, with one flat colour: the RGB
// complement of the region's mean.
func patch(src *image.NRGBA, area, cx, cy float64) *image.NRGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	side := int(math.Round(math.Sqrt(area * float64(w*h))))
	x0, y0 := int(cx*float64(w))-side/2, int(cy*float64(h))-side/2
	var mean [3]float64
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			for ch := range 3 {
				mean[ch] += float64(src.Pix[4*(y*w+x)+ch])
			}
		}
	}
	out := image.NewNRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			for ch := range 3 {
				out.Pix[4*(y*w+x)+ch] = clamp8(255 - mean[ch]/float64(side*side))
			}
		}
	}
	return out
}

// lsbNoise adds an independent -1, 0 or +1 to every channel.
func lsbNoise(src *image.NRGBA, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	return mapPixels(src, func(r, g, b float64) (float64, float64, float64) {
		n := func() float64 { return float64(rng.IntN(3) - 1) }
		return r + n(), g + n(), b + n()
	})
}

// jitter re-quantises the float image with a uniform ±0.5 LSB offset: the
// float-level noise of another GPU or kernel, seen after 8-bit rounding.
func jitter(f *floatImage, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 2))
	return f.quantise(func() float64 { return rng.Float64() - 0.5 })
}

// edit is one synthetic change of a golden.
type edit struct {
	name string
	// tier is the failure class expected; "" means pass~, "=" pass.
	tier  string
	apply func(f *floatImage, golden *image.NRGBA, seed uint64) *image.NRGBA
}

func edits() []edit {
	all := [3]bool{true, true, true}
	red := [3]bool{true, false, false}
	return []edit{
		{"identical", "=", func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return g }},
		{"jitter ±0.5 LSB float", "", func(f *floatImage, _ *image.NRGBA, s uint64) *image.NRGBA { return jitter(f, s) }},
		{"noise ±1 LSB", "", func(_ *floatImage, g *image.NRGBA, s uint64) *image.NRGBA { return lsbNoise(g, s) }},
		{"hue 3°", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return hueRotate(g, 3) }},
		{"hue 5°", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return hueRotate(g, 5) }},
		{"gain RGB +2%", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return gain(g, 0.02, all) }},
		{"gain RGB +4%", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return gain(g, 0.04, all) }},
		{"gain R +2%", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return gain(g, 0.02, red) }},
		{"gain R +4%", FailColour, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return gain(g, 0.04, red) }},
		{"blur σ0.7", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return blur(g, 0.7) }},
		{"blur σ1.5", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return blur(g, 1.5) }},
		{"shift 1px", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return shift(g, 1, 0) }},
		{"shift 2px", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return shift(g, 2, 0) }},
		{"patch 0.25%", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return patch(g, 0.0025, 0.62, 0.3) }},
		{"patch 0.5%", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return patch(g, 0.005, 0.62, 0.3) }},
		{"patch 1%", FailLocal, func(_ *floatImage, g *image.NRGBA, _ uint64) *image.NRGBA { return patch(g, 0.01, 0.62, 0.3) }},
		{"another seed", FailStructure, func(_ *floatImage, _ *image.NRGBA, s uint64) *image.NRGBA {
			return synth(s+1000, 256, 256).quantise(nil)
		}},
	}
}

// testSeeds are the seeds of the test images.
var testSeeds = []uint64{1, 2, 3}
