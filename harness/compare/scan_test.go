package compare

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/vitali-fedulov/images4"
)

// scanImages are the images the one-pass analysis is checked on: sizes
// that do and do not divide by the 4×4 grid, the 64×64 hash thumbnail and
// images4's 276² sampling, smaller than each, with and without alpha, and
// the committed 1024² fixture golden.
func scanImages(t *testing.T) map[string]*image.NRGBA {
	t.Helper()
	out := map[string]*image.NRGBA{}
	for i, sz := range [][2]int{{1, 1}, {2, 3}, {5, 3}, {17, 64}, {63, 65}, {64, 64}, {257, 130}, {300, 301}, {1000, 17}} {
		img := synth(uint64(40+i), sz[0], sz[1]).quantise(nil)
		out[fmt.Sprintf("%dx%d", sz[0], sz[1])] = img
		trans := image.NewNRGBA(img.Rect)
		copy(trans.Pix, img.Pix)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		for k := 3; k < len(trans.Pix); k += 4 {
			trans.Pix[k] = uint8(rng.IntN(256))
		}
		out[fmt.Sprintf("%dx%d-alpha", sz[0], sz[1])] = trans
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "golden", "cpu", "api-mixed-sd15-sdxl-refine", "default.seed-1.26-0.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out["fixture-1024"] = toNRGBA(img)
	return out
}

// toOKLabDirect is toOKLab without the cache: every pixel converted.
func toOKLabDirect(img *image.NRGBA) *labPlanes {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	p := &labPlanes{w: w, h: h, L: make([]float32, w*h), A: make([]float32, w*h), B: make([]float32, w*h)}
	for i := range w * h {
		v := oklab8(img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2])
		p.L[i], p.A[i], p.B[i] = v[0], v[1], v[2]
	}
	return p
}

// TestScanMatchesSequential: the one concurrent pass gives, bit for bit,
// what the sequential functions give one after the other (colourStats of
// toOKLab without its cache, levelStats, lumaThumb); so records, and every
// verdict, are those of before.
func TestScanMatchesSequential(t *testing.T) {
	t.Parallel()
	for name, px := range scanImages(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lab := toOKLabDirect(px)
			s := scan(px)
			if cached := toOKLab(px); !reflect.DeepEqual(cached, lab) {
				t.Error("toOKLab (cached) differs from the direct conversion")
			}
			if want := colourStats(lab); !reflect.DeepEqual(s.colour, want) {
				t.Errorf("colour statistics differ:\n got %+v\nwant %+v", s.colour.Global, want.Global)
			}
			if want := levelStats(px); !reflect.DeepEqual(s.levels, want) {
				t.Errorf("level statistics differ:\n got %+v\nwant %+v", s.levels.Global, want.Global)
			}
			if want := lumaThumb(px); !reflect.DeepEqual(s.thumb, want) {
				t.Error("hash thumbnail differs")
			}
		})
	}
}

// TestScanPairWorkers: the pass over a pair gives the same results, every
// field bit for bit, whether its bands run on 1, 2, 4 or 7 goroutines
// (more than there are bands), and the same as each side's scan alone.
func TestScanPairWorkers(t *testing.T) {
	t.Parallel()
	for name, golden := range scanImages(t) {
		// With alpha changed too, and with every alpha kept (the pass's
		// path for rows whose alphas are all the same, sameAlpha).
		for _, keepAlpha := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/keepAlpha=%t", name, keepAlpha), func(t *testing.T) {
				t.Parallel()
				// A ±1–2 LSB change in a third of the channel values, alpha
				// included unless kept, clipped at 0 and 255.
				out := image.NewNRGBA(golden.Rect)
				rng := rand.New(rand.NewPCG(uint64(len(golden.Pix)), 3))
				for i, v := range golden.Pix {
					d := []int{0, 0, 0, 0, 1, -1, 2, -2, 1}[rng.IntN(9)]
					if keepAlpha && i%4 == 3 {
						d = 0
					}
					out.Pix[i] = uint8(min(255, max(0, int(v)+d)))
				}
				th := DefaultThresholds()
				th.PixelMinLSB = 1 // every changed pixel's ΔE is taken
				wantO, wantG := scan(out), scan(golden)
				_, wantLoc := scanAgainst(out, golden, th)
				for _, workers := range []int{1, 2, 4, 7, 16} {
					so, sg, loc := scanPairWorkers(out, golden, th, true, workers)
					if !reflect.DeepEqual(so, wantO) {
						t.Errorf("%d workers: the output's statistics differ from its scan alone", workers)
					}
					if !reflect.DeepEqual(sg, wantG) {
						t.Errorf("%d workers: the golden's statistics differ from its scan alone", workers)
					}
					if *loc != *wantLoc {
						t.Errorf("%d workers: tier 4 = %+v\nwant %+v", workers, *loc, *wantLoc)
					}
					if want := localSAT(golden, out, th); *loc != want {
						t.Errorf("%d workers: tier 4 = %+v\nsummed-area table gives %+v", workers, *loc, want)
					}
				}
			})
		}
	}
}

// TestSameAlpha: sameAlpha finds a changed alpha in any pixel, the last
// ones past a multiple of eight bytes included, and no change elsewhere.
func TestSameAlpha(t *testing.T) {
	t.Parallel()
	for _, pixels := range []int{0, 1, 2, 3, 5, 8} {
		a := make([]byte, 4*pixels)
		for i := range a {
			a[i] = byte(7*i + 1)
		}
		t.Run(fmt.Sprint(pixels), func(t *testing.T) {
			t.Parallel()
			b := bytes.Clone(a)
			for i := range b {
				if i%4 != 3 {
					b[i] ^= 0x5a // colour changes alone
				}
			}
			if !sameAlpha(a, b) {
				t.Errorf("%d pixels, colours changed: sameAlpha = false, want true", pixels)
			}
			for x := range pixels {
				c := bytes.Clone(b)
				c[4*x+3]++
				if sameAlpha(a, c) {
					t.Errorf("%d pixels, alpha of pixel %d changed: sameAlpha = true, want false", pixels, x)
				}
			}
		})
	}
}

// TestScanWideSegments: the level sums of a row wider than 64 segments of
// maxSegment pixels, nine levels in ten 255 (the largest squares), are
// exact: without the cap on a segment's width, the squares' lanes of
// levelLanes would overflow.
func TestScanWideSegments(t *testing.T) {
	t.Parallel()
	w := 64 * 80000 // a thumbnail column of 80 000 px: 72 000 × 255² > 2³²
	px := image.NewNRGBA(image.Rect(0, 0, w, 1))
	for i := range px.Pix {
		if i/4%10 != 0 {
			px.Pix[i] = 255
		}
	}
	if got, want := scan(px).levels, levelStats(px); !reflect.DeepEqual(got, want) {
		t.Errorf("level statistics differ:\n got %+v\nwant %+v", got.Global, want.Global)
	}
}

// TestIconsMatchImages4: icons gives images4's Icon and IconNN, bit for
// bit, alpha and an offset origin included.
func TestIconsMatchImages4(t *testing.T) {
	t.Parallel()
	imgs := scanImages(t)
	off := image.NewNRGBA(image.Rect(5, 9, 70, 40))
	rng := rand.New(rand.NewPCG(4, 14))
	for i := range off.Pix {
		off.Pix[i] = uint8(rng.IntN(256))
	}
	imgs["offset-origin"] = off
	for name, px := range imgs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stretched, raw := icons(px)
			if want := images4.IconNN(px); !reflect.DeepEqual(raw, want) {
				t.Errorf("raw icon differs:\n got %v\nwant %v", raw, want)
			}
			if want := images4.Icon(px); !reflect.DeepEqual(stretched, want) {
				t.Errorf("stretched icon differs:\n got %v\nwant %v", stretched, want)
			}
		})
	}
}

// localSAT is tier 4 as it was before local converted colours as it went
// and found the window in its pass: ΔE from whole OKLab planes, the
// window by a summed-area table. The reference.
func localSAT(a, b *image.NRGBA, t Thresholds) localStats {
	la, lb := toOKLabDirect(a), toOKLabDirect(b)
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var st localStats
	sat := make([]int32, (w+1)*(h+1))
	for y := range h {
		var run int32
		for x := range w {
			i := y*w + x
			dE := float64(pixelDeltaE([3]float32{la.L[i], la.A[i], la.B[i]}, [3]float32{lb.L[i], lb.A[i], lb.B[i]}))
			st.maxDeltaE = max(st.maxDeltaE, dE)
			da := int(a.Pix[4*i+3]) - int(b.Pix[4*i+3])
			da = max(da, -da)
			st.maxAlpha = max(st.maxAlpha, da)
			alpha := da >= max(1, t.PixelAlphaLSB)
			if alpha {
				st.alphaChanged++
			}
			if alpha || dE > t.PixelDeltaE && maxLSB(a.Pix[4*i:4*i+4], b.Pix[4*i:4*i+4]) >= t.PixelMinLSB {
				run++
				st.changed++
			}
			sat[(y+1)*(w+1)+x+1] = sat[y*(w+1)+x+1] + run
		}
	}
	st.globalRatio = float64(st.changed) / float64(w*h)
	// The drift counts, pixel by pixel: a changed, unclipped level that
	// differs from an unclipped 4-neighbour's in the golden.
	level := func(x, y, c int) int {
		if x < 0 || y < 0 || x >= w || y >= h {
			return -1
		}
		return int(a.Pix[y*a.Stride+4*x+c])
	}
	for y := range h {
		for x := range w {
			for c := range 3 {
				g, o := level(x, y, c), int(b.Pix[y*b.Stride+4*x+c])
				n := []int{level(x-1, y, c), level(x+1, y, c), level(x, y-1, c), level(x, y+1, c)}
				edge := slices.ContainsFunc(n, func(v int) bool { return v > 0 && v < 255 && v != g })
				switch {
				case g == 0 || g == 255 || !edge:
				case o > g:
					st.up[c]++
				case o < g:
					st.down[c]++
				}
			}
		}
	}
	win := localWindow(t.Window, w, h)
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

// TestLocalMatchesSummedAreaTable: tier 4 finds the window a summed-area
// table over whole OKLab planes finds (the first densest in row-major
// order), with the same counts and ΔE, for every synthetic edit, alpha
// edits, window sizes from 1 px to larger than the image, the mask made in
// 1 to 7 bands, and measured in the output's scan (scanAgainst), which
// gives both sides' statistics as their own scans do (scanPair).
func TestLocalMatchesSummedAreaTable(t *testing.T) {
	t.Parallel()
	const w, h = 160, 120
	f := synth(7, w, h)
	golden := f.quantise(nil)
	alpha := image.NewNRGBA(golden.Rect)
	copy(alpha.Pix, golden.Pix)
	for i := 3; i < len(alpha.Pix); i += 4 * 37 {
		alpha.Pix[i] = 200
	}
	// Levels at and beside the clips (0, 1, 254, 255), moved by ±1 at
	// random: the drift counts' edge cases on every channel.
	clipG, clipO := image.NewNRGBA(golden.Rect), image.NewNRGBA(golden.Rect)
	rng := rand.New(rand.NewPCG(11, 5))
	for i := range clipG.Pix {
		v := []int{0, 1, 254, 255, 128}[rng.IntN(5)]
		if i%4 == 3 {
			v = 255
		}
		clipG.Pix[i] = uint8(v)
		clipO.Pix[i] = uint8(min(255, max(0, v+rng.IntN(3)-1)))
	}
	// ±1 LSB on a third of the colour values: pixels differ, none is in
	// the mask (mergeLocal's empty-mask path).
	jitter := image.NewNRGBA(golden.Rect)
	copy(jitter.Pix, golden.Pix)
	for i := range jitter.Pix {
		if i%4 != 3 && i%3 == 0 {
			jitter.Pix[i] = uint8(min(254, max(1, int(jitter.Pix[i])+rng.IntN(3)-1)))
		}
	}
	outs := map[string]*image.NRGBA{"alpha": alpha, "jitter": jitter}
	for _, e := range edits() {
		if out := e.apply(f, golden, 7); out.Rect == golden.Rect {
			outs[e.name] = out
		}
	}
	outs["clipped"] = clipO // against clipG
	for name, out := range outs {
		for _, win := range []int{1, 3, 16, 119, 500} {
			t.Run(fmt.Sprintf("%s/window=%d", name, win), func(t *testing.T) {
				t.Parallel()
				th := DefaultThresholds()
				th.Window = win
				golden := golden
				if name == "clipped" {
					golden = clipG
				}
				want := localSAT(golden, out, th)
				for _, bands := range []int{1, 2, 3, 7} {
					if got := localBands(golden, out, th, bands); got != want {
						t.Errorf("%d bands: local = %+v\nsummed-area table gives %+v", bands, got, want)
					}
				}
				if got := local(golden, out, th); got != want {
					t.Errorf("local = %+v\nsummed-area table gives %+v", got, want)
				}
				s, got := scanAgainst(out, golden, th)
				if got == nil || *got != want {
					t.Errorf("in the output's scan: %+v\nsummed-area table gives %+v", got, want)
				}
				if !reflect.DeepEqual(s, scan(out)) {
					t.Error("the output's scan against its golden differs from its scan alone")
				}
				// Both sides' statistics from one pass, either way round
				// (the golden translucent too).
				for _, pair := range [][2]*image.NRGBA{{out, golden}, {golden, out}} {
					o, g := pair[0], pair[1]
					so, sg, loc := scanPair(o, g, th, true)
					if !reflect.DeepEqual(so, scan(o)) {
						t.Error("scanPair: the output's statistics differ from its scan alone")
					}
					if !reflect.DeepEqual(sg, scan(g)) {
						t.Error("scanPair: the golden's statistics differ from its scan alone")
					}
					if _, want := scanAgainst(o, g, th); loc == nil || *loc != *want {
						t.Errorf("scanPair: tier 4 = %+v, scanAgainst gives %+v", loc, want)
					}
				}
			})
		}
	}
}

// TestToNRGBAOpaqueRGBA: an opaque *image.RGBA (what image/png decodes
// an RGB file to) is read in place; one translucent pixel makes a
// converted copy.
func TestToNRGBAOpaqueRGBA(t *testing.T) {
	t.Parallel()
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = uint8(40 * (i % 4))
		if i%4 == 3 {
			src.Pix[i] = 0xff
		}
	}
	got := toNRGBA(src)
	if &got.Pix[0] != &src.Pix[0] || !bytes.Equal(got.Pix, src.Pix) {
		t.Error("opaque RGBA: not read in place")
	}
	src.Pix[7] = 0x80 // pixel 1 half transparent: premultiplied 0, 40, 80
	got = toNRGBA(src)
	if &got.Pix[0] == &src.Pix[0] {
		t.Fatal("translucent RGBA: read in place, its colours premultiplied")
	}
	if c := got.NRGBAAt(1, 0); c.A != 0x80 || math.Abs(float64(c.G)-80) > 1 || math.Abs(float64(c.B)-160) > 1 {
		t.Errorf("translucent pixel = %v, want ≈ {0 80 160 128}", c)
	}
}
