package model

import (
	"fmt"
	"math"
	"testing"
)

// flatScene is a 4×16×16 latent like an encoded fixture scene: a smooth
// vertical gradient in the colour channels, a square of another colour
// (rows and columns 4..9) with its outline in the last (edge) channel.
func flatScene() []float32 {
	const c, h, w = 4, 16, 16
	x := make([]float32, c*h*w)
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			in := y >= 4 && y < 10 && xx >= 4 && xx < 10
			for ch := 0; ch < c-1; ch++ {
				v := float32(0.05*float64(y)) - 0.4 + float32(ch)*0.2
				if in {
					v += []float32{1, -3, 2}[ch]
				}
				x[(ch*h+y)*w+xx] = v
			}
			if in && (xx == 4 || xx == 9) {
				x[((c-1)*h+y)*w+xx] = []float32{8, -8}[min(xx-4, 1)]
			}
		}
	}
	return x
}

// TestFlatMeanDenoisesAndKeepsEdges: at σ = 0.8 (img2img at denoise 0.3)
// the edge-preserving mean of a noisy piecewise-smooth latent is much
// nearer the clean latent than the noisy one is, inside flat regions and
// next to the square's edge alike (an edge-blind average would blur the
// edge; the Wiener filter it replaces kept the noise as blotches); at
// σ → 0 it returns x.
func TestFlatMeanDenoisesAndKeepsEdges(t *testing.T) {
	t.Parallel()
	const c, h, w = 4, 16, 16
	clean := flatScene()
	// edgeRatio: the error next to the edges against the edge-blind
	// average's. At σ = 0.8 the noise is as large as the square's
	// contrast and a single evaluation only starts to separate the two
	// sides (the sampler's later, smaller σ finish the edge); at σ = 0.3
	// they are separated.
	for _, tc := range []struct{ sigma, edgeRatio float64 }{{0.8, 0.9}, {0.3, 0.05}} {
		sigma := tc.sigma
		t.Run(fmt.Sprintf("sigma=%v", sigma), func(t *testing.T) {
			t.Parallel()
			noise := gauss(uint64(1000*sigma), len(clean))
			x := make([]float32, len(clean))
			for i := range x {
				x[i] = clean[i] + float32(sigma)*noise[i]
			}
			// squared errors of the colour channels, over the whole latent
			// and over the columns either side of the square's sides
			errs := func(out []float32) (all, edge float64) {
				for ch := 0; ch < c-1; ch++ {
					for y := 0; y < h; y++ {
						for xx := 0; xx < w; xx++ {
							i := (ch*h+y)*w + xx
							e := sq(float64(out[i] - clean[i]))
							all += e
							if (xx == 3 || xx == 4 || xx == 9 || xx == 10) && y >= 4 && y < 10 {
								edge += e
							}
						}
					}
				}
				return all, edge
			}
			out := make([]float32, len(x))
			flatMean(out, x, c, h, w, sigma*sigma)
			blind := make([]float32, len(x))
			flatPassesMean(blind, x, c, h, w, sigma*sigma, 0, 1)
			eAll, eEdge := errs(out)
			nAll, _ := errs(x)
			_, bEdge := errs(blind)
			t.Logf("squared error %.2f (noise %.2f); next to the edges %.2f (edge-blind average %.2f)", eAll, nAll, eEdge, bEdge)
			if eAll > 0.2*nAll {
				t.Errorf("squared error %.2f, more than a fifth of the noise's %.2f", eAll, nAll)
			}
			if eEdge > tc.edgeRatio*bEdge {
				t.Errorf("squared error next to the edges %.2f, more than %v× the edge-blind average's %.2f", eEdge, tc.edgeRatio, bEdge)
			}
		})
	}
	t.Run("sigma→0", func(t *testing.T) {
		t.Parallel()
		out := make([]float32, len(clean))
		flatMean(out, clean, c, h, w, 0)
		for i := range clean {
			if out[i] != clean[i] {
				t.Fatalf("value %d: %v, want x's %v", i, out[i], clean[i])
			}
		}
	})
}

// TestFlatMeanBits pins flatMean's output bits (a fixed reduction order,
// no fused multiply-add): a change here changes every img2img golden.
func TestFlatMeanBits(t *testing.T) {
	t.Parallel()
	clean := flatScene()
	noise := gauss(5, len(clean))
	x := make([]float32, len(clean))
	for i := range x {
		x[i] = clean[i] + 0.8*noise[i]
	}
	out := make([]float32, len(x))
	flatMean(out, x, 4, 16, 16, 0.64)
	var h uint64 = 14695981039346656037
	for _, v := range out {
		h = (h ^ uint64(math.Float32bits(v))) * 1099511628211
	}
	const want uint64 = 0xd9cc296381597ad4
	if h != want {
		t.Errorf("flatMean bits hash %#x, want %#x", h, want)
	}
}

// TestFlatMeanNoBlotchesOnLargeLatents: on a 128×128 latent (a 1024²
// image, the refine case) a window of adjacent taps leaves the noise's
// average over its few pixels, blotches some 30 image pixels across; the
// strided taps and the cleanup passes at finer strides take the
// low-frequency error (the error averaged over 8×8 latent pixels) well
// below it.
func TestFlatMeanNoBlotchesOnLargeLatents(t *testing.T) {
	t.Parallel()
	const c, h, w, sigma = 4, 128, 128, 0.9
	noise := gauss(11, c*h*w)
	x := make([]float32, len(noise))
	clean := make([]float32, len(noise))
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				i := (ch*h+y)*w + xx
				clean[i] = float32(0.004*float64(y)) + float32(ch)*0.3 // a smooth gradient
				x[i] = clean[i] + sigma*noise[i]
			}
		}
	}
	// blotch returns the mean square of the error averaged over 8×8 blocks
	blotch := func(out []float32) float64 {
		var e float64
		for ch := 0; ch < c-1; ch++ {
			for by := 0; by < h; by += 8 {
				for bx := 0; bx < w; bx += 8 {
					var m float64
					for y := by; y < by+8; y++ {
						for xx := bx; xx < bx+8; xx++ {
							i := (ch*h+y)*w + xx
							m += float64(out[i] - clean[i])
						}
					}
					e += sq(m / 64)
				}
			}
		}
		return e / float64((c-1)*(h/8)*(w/8))
	}
	out := make([]float32, len(x))
	flatMean(out, x, c, h, w, sigma*sigma)
	adjacent := make([]float32, len(x))
	flatPassesMean(adjacent, x, c, h, w, sigma*sigma, flatPasses, 1)
	got, near := blotch(out), blotch(adjacent)
	t.Logf("low-frequency error %.5f, with adjacent taps %.5f (the noise's own %.5f)", got, near, sigma*sigma/64)
	if got > 0.25*near {
		t.Errorf("low-frequency error %.5f, more than a quarter of adjacent taps' %.5f", got, near)
	}
}

// BenchmarkFlatMean times one evaluation of the edge-preserving mean at
// the latent sizes of 128², 512² and 1024² images:
//
//	go test -run '^$' -bench FlatMean ./executor/model
func BenchmarkFlatMean(b *testing.B) {
	for _, n := range []int{16, 64, 128} {
		b.Run(fmt.Sprintf("%dx%d", n, n), func(b *testing.B) {
			x := gauss(uint64(n), 4*n*n)
			out := make([]float32, len(x))
			for b.Loop() {
				flatMean(out, x, 4, n, n, 0.64)
			}
		})
	}
}
