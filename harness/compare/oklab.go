package compare

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// deltaEScale converts OKLab distances to the reported ΔE unit: every ΔE in
// this package is the Euclidean distance in OKLab multiplied by 100, so that
// L runs 0..100 like CIELAB and a just-noticeable difference is about 2.
const deltaEScale = 100

// gridSize is the number of cells per side of the colour statistics grid.
const gridSize = 4

// srgbToLinear8 maps an 8-bit sRGB value to linear light.
var srgbToLinear8 = func() (t [256]float64) {
	for i := range t {
		t[i] = srgbToLinear(float64(i) / 255)
	}
	return t
}()

// srgbToLinear decodes one sRGB component in [0,1] to linear light.
func srgbToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

// linearToSRGB encodes one linear-light component to sRGB in [0,1] (unclamped).
func linearToSRGB(c float64) float64 {
	if c <= 0.0031308 {
		return 12.92 * c
	}
	return float64(1.055*math.Pow(c, 1/2.4)) - 0.055
}

// linearToOKLab converts linear sRGB to OKLab (Ottosson 2020): linear RGB to
// an LMS cone response, a cube root, then a second matrix to L, a, b.
func linearToOKLab(r, g, b float64) (L, A, B float64) {
	l := float64(0.4122214708*r) + float64(0.5363325363*g) + float64(0.0514459929*b)
	m := float64(0.2119034982*r) + float64(0.6806995451*g) + float64(0.1073969566*b)
	s := float64(0.0883024619*r) + float64(0.2817188376*g) + float64(0.6299787005*b)
	l, m, s = math.Cbrt(l), math.Cbrt(m), math.Cbrt(s)
	L = float64(0.2104542553*l) + float64(0.7936177850*m) - float64(0.0040720468*s)
	A = float64(1.9779984951*l) - float64(2.4285922050*m) + float64(0.4505937099*s)
	B = float64(0.0259040371*l) + float64(0.7827717662*m) - float64(0.8086757660*s)
	return L, A, B
}

// okLabToLinear is the inverse of linearToOKLab.
func okLabToLinear(L, A, B float64) (r, g, b float64) {
	l := L + float64(0.3963377774*A) + float64(0.2158037573*B)
	m := L - float64(0.1055613458*A) - float64(0.0638541728*B)
	s := L - float64(0.0894841775*A) - float64(1.2914855480*B)
	l, m, s = l*l*l, m*m*m, s*s*s
	r = float64(4.0767416621*l) - float64(3.3077115913*m) + float64(0.2309699292*s)
	g = float64(-1.2684380046*l) + float64(2.6097574011*m) - float64(0.3413193965*s)
	b = float64(-0.0041960863*l) - float64(0.7034186147*m) + float64(1.7076147010*s)
	return r, g, b
}

// labPlanes holds an image in OKLab, one float32 plane per channel, row-major.
type labPlanes struct {
	w, h    int
	L, A, B []float32
}

// toOKLab converts 8-bit NRGBA pixels (alpha ignored) to OKLab planes.
// Rows are converted in parallel bands; every pixel is independent, so the
// result does not depend on the split (nor on what the labTable held).
func toOKLab(img *image.NRGBA) *labPlanes {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	p := &labPlanes{w: w, h: h, L: make([]float32, w*h), A: make([]float32, w*h), B: make([]float32, w*h)}
	bands := min(runtime.GOMAXPROCS(0), max(1, h/64))
	cache := newLabTable(w * h)
	defer cache.put()
	var wg sync.WaitGroup
	for k := range bands {
		y0, y1 := k*h/bands, (k+1)*h/bands
		wg.Go(func() {
			for y := y0; y < y1; y++ {
				row := img.Pix[y*img.Stride : y*img.Stride+4*w]
				for x := 0; x < w; x++ {
					px := row[4*x : 4*x+3 : 4*x+3]
					v := cache.get(px[0], px[1], px[2])
					i := y*w + x
					p.L[i], p.A[i], p.B[i] = v[0], v[1], v[2]
				}
			}
		})
	}
	wg.Wait()
	return p
}

// LabStats are the mean and standard deviation of OKLab L, a, b over a
// region, in OKLab units (not scaled).
type LabStats struct {
	Mean [3]float64 `json:"mean"`
	Std  [3]float64 `json:"std"`
}

// ColourStats are the OKLab statistics of a whole image and of a 4×4 grid
// of cells (row-major, cell (cx, cy) covers x in [cx·W/4, (cx+1)·W/4)).
type ColourStats struct {
	Global LabStats   `json:"global"`
	Grid   []LabStats `json:"grid"`
	// Levels are the 8-bit RGBA statistics over the same regions; nil in
	// records written before they existed (then they are taken from the
	// pixels when those are at hand, and not judged otherwise).
	Levels *Levels `json:"levels,omitempty"`
}

// colourStats computes the global and grid statistics of p, summing in
// float64 in row-major order so the result is the same run to run.
func colourStats(p *labPlanes) ColourStats {
	type acc struct {
		n       float64
		sum, sq [3]float64
	}
	var global acc
	cells := make([]acc, gridSize*gridSize)
	planes := [3][]float32{p.L, p.A, p.B}
	for y := 0; y < p.h; y++ {
		cy := y * gridSize / p.h
		for x := 0; x < p.w; x++ {
			cx := x * gridSize / p.w
			c := &cells[cy*gridSize+cx]
			i := y*p.w + x
			c.n++
			for ch := range planes {
				v := float64(planes[ch][i])
				c.sum[ch] += v
				c.sq[ch] += float64(v * v)
			}
		}
	}
	for _, c := range cells {
		global.n += c.n
		for ch := range 3 {
			global.sum[ch] += c.sum[ch]
			global.sq[ch] += c.sq[ch]
		}
	}
	finish := func(a acc) (s LabStats) {
		if a.n == 0 {
			return s
		}
		for ch := range 3 {
			m := a.sum[ch] / a.n
			v := a.sq[ch]/a.n - float64(m*m)
			s.Mean[ch] = m
			s.Std[ch] = math.Sqrt(math.Max(v, 0))
		}
		return s
	}
	out := ColourStats{Global: finish(global), Grid: make([]LabStats, len(cells))}
	for i, c := range cells {
		out.Grid[i] = finish(c)
	}
	return out
}

// deltaE is the scaled Euclidean distance between two OKLab triples.
func deltaE(a, b [3]float64) float64 {
	dl, da, db := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return deltaEScale * math.Sqrt(float64(dl*dl)+float64(da*da)+float64(db*db))
}
