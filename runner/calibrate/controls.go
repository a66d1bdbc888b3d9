package calibrate

import (
	"image"
	"image/color"
	"math"
)

// An edit is a synthetic regression of a golden: one of the positive
// controls every calibrated case must still catch.
type edit struct {
	name string
	fn   func(*image.NRGBA) *image.NRGBA
}

// Edits are the synthetic positive controls, in the order they are
// reported. Each is small: a user would call it a regression, yet it is
// near what a loose threshold would let through.
var edits = []edit{
	{"hue 3°", func(p *image.NRGBA) *image.NRGBA { return hueRotate(p, 3) }},
	{"red gain 2%", func(p *image.NRGBA) *image.NRGBA { return redGain(p, 1.02) }},
	{"blur σ1", func(p *image.NRGBA) *image.NRGBA { return blur(p, 1) }},
	{"shift 1px", shiftRight},
	{"patch 0.5%", func(p *image.NRGBA) *image.NRGBA { return patch(p, 0.005) }},
}

// ControlNames lists every positive control, the seed+1 replay last.
func ControlNames() []string {
	out := make([]string, 0, len(edits)+1)
	for _, e := range edits {
		out = append(out, e.name)
	}
	return append(out, SeedControl)
}

// SeedControl is the name of the control replayed with the case's seed + 1.
const SeedControl = "seed+1"

func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func clone(p *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(p.Rect)
	copy(out.Pix, p.Pix)
	return out
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// redGain multiplies the red channel by g.
func redGain(p *image.NRGBA, g float64) *image.NRGBA {
	out := clone(p)
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i] = clamp8(float64(out.Pix[i]) * g)
	}
	return out
}

// shiftRight moves the image one pixel right, repeating the first column.
func shiftRight(p *image.NRGBA) *image.NRGBA {
	out := clone(p)
	w, h := p.Rect.Dx(), p.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 1; x < w; x++ {
			copy(out.Pix[y*out.Stride+4*x:y*out.Stride+4*x+4], p.Pix[y*p.Stride+4*(x-1):y*p.Stride+4*x])
		}
	}
	return out
}

// patch replaces a centred square of frac of the area with black or white,
// whichever is further from the square's mean luma.
func patch(p *image.NRGBA, frac float64) *image.NRGBA {
	out := clone(p)
	w, h := p.Rect.Dx(), p.Rect.Dy()
	side := max(1, int(math.Round(math.Sqrt(frac*float64(w*h)))))
	x0, y0 := (w-side)/2, (h-side)/2
	sum := 0.0
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			c := p.NRGBAAt(x, y)
			sum += 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
		}
	}
	fill := uint8(255)
	if sum/float64(side*side) > 127 {
		fill = 0
	}
	for y := y0; y < y0+side; y++ {
		for x := x0; x < x0+side; x++ {
			out.SetNRGBA(x, y, color.NRGBA{fill, fill, fill, p.NRGBAAt(x, y).A})
		}
	}
	return out
}

// blur is a Gaussian blur of the colour channels (separable, radius 3σ,
// edges clamped); alpha is kept.
func blur(p *image.NRGBA, sigma float64) *image.NRGBA {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	w, h := p.Rect.Dx(), p.Rect.Dy()
	tmp := make([]float64, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				v := 0.0
				for i, kv := range k {
					xx := min(max(x+i-r, 0), w-1)
					v += kv * float64(p.Pix[y*p.Stride+4*xx+c])
				}
				tmp[(y*w+x)*3+c] = v
			}
		}
	}
	out := clone(p)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				v := 0.0
				for i, kv := range k {
					yy := min(max(y+i-r, 0), h-1)
					v += kv * tmp[(yy*w+x)*3+c]
				}
				out.Pix[y*out.Stride+4*x+c] = clamp8(v)
			}
		}
	}
	return out
}

// hueRotate rotates every pixel's hue by deg degrees in OKLab (the a, b
// plane), keeping its lightness and chroma.
func hueRotate(p *image.NRGBA, deg float64) *image.NRGBA {
	out := clone(p)
	sin, cos := math.Sincos(deg * math.Pi / 180)
	for i := 0; i < len(out.Pix); i += 4 {
		L, a, b := toOKLab(out.Pix[i], out.Pix[i+1], out.Pix[i+2])
		a, b = a*cos-b*sin, a*sin+b*cos
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = fromOKLab(L, a, b)
	}
	return out
}

func toLinear(v uint8) float64 {
	c := float64(v) / 255
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func fromLinear(c float64) uint8 {
	if c <= 0.0031308 {
		return clamp8(255 * 12.92 * c)
	}
	return clamp8(255 * (1.055*math.Pow(c, 1/2.4) - 0.055))
}

// toOKLab and fromOKLab are Björn Ottosson's OKLab transform of sRGB.
func toOKLab(r8, g8, b8 uint8) (L, a, b float64) {
	r, g, bl := toLinear(r8), toLinear(g8), toLinear(b8)
	l := math.Cbrt(0.4122214708*r + 0.5363325363*g + 0.0514459929*bl)
	m := math.Cbrt(0.2119034982*r + 0.6806995451*g + 0.1073969566*bl)
	s := math.Cbrt(0.0883024619*r + 0.2817188376*g + 0.6299787005*bl)
	return 0.2104542553*l + 0.7936177850*m - 0.0040720468*s,
		1.9779984951*l - 2.4285922050*m + 0.4505937099*s,
		0.0259040371*l + 0.7827717662*m - 0.8086757660*s
}

func fromOKLab(L, a, b float64) (uint8, uint8, uint8) {
	l := L + 0.3963377774*a + 0.2158037573*b
	m := L - 0.1055613458*a - 0.0638541728*b
	s := L - 0.0894841775*a - 1.2914855480*b
	l, m, s = l*l*l, m*m*m, s*s*s
	return fromLinear(4.0767416621*l - 3.3077115913*m + 0.2309699292*s),
		fromLinear(-1.2684380046*l + 2.6097574011*m - 0.3413193965*s),
		fromLinear(-0.0041960863*l - 0.7034186147*m + 1.7076147010*s)
}
