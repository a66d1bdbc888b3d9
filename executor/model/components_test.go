package model

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestShiftPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fracs  [][2]float64
		h, w   int
		expect [][2]int
	}{
		{"none", nil, 16, 16, [][2]int{{0, 0}}},
		{"rounded", [][2]float64{{0, -0.15}, {0, 0.15}, {-0.1, 0}, {0.1, 0}}, 16, 16, [][2]int{{0, 0}, {0, -2}, {0, 2}, {-2, 0}, {2, 0}}},
		{"duplicates dropped", [][2]float64{{0, 0.1}, {0, 0.12}, {0.01, 0}}, 8, 8, [][2]int{{0, 0}, {0, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := shiftPairs(tc.fracs, tc.h, tc.w); !slices.Equal(got, tc.expect) {
				t.Errorf("shiftPairs = %v, want %v", got, tc.expect)
			}
		})
	}
}

func TestShiftPlanes(t *testing.T) {
	t.Parallel()
	src := []float32{1, 2, 3, 4, 5, 6} // one 2×3 plane
	dst := make([]float32, 6)
	shiftPlanes(dst, src, 1, 2, 3, 1, -1)
	// down one row (the top row repeats), left one column (the right
	// column repeats)
	if want := []float32{2, 3, 3, 2, 3, 3}; !slices.Equal(dst, want) {
		t.Errorf("shifted = %v, want %v", dst, want)
	}
}

// TestSmoothProjection: the basis is orthonormal, and projecting twice is
// projecting once (P² = P), so the posterior formula's P is a projection.
func TestSmoothProjection(t *testing.T) {
	t.Parallel()
	for _, size := range []int{2, 7, 16} {
		b := polyBasis(4, size)
		for u := range b {
			for v := range b {
				var dot float64
				for i := range b[u] {
					dot += b[u][i] * b[v][i]
				}
				want := 0.0
				if u == v {
					want = 1
				}
				if math.Abs(dot-want) > 1e-12 {
					t.Fatalf("size %d: ⟨b%d, b%d⟩ = %g, want %g", size, u, v, dot, want)
				}
			}
		}
	}
	s := newSmooth(2, 6, 10, 3, 0.8, 0.7)
	if s.dim() != 2*3*3 {
		t.Fatalf("dim = %d, want 18", s.dim())
	}
	x := gauss(5, 2*6*10)
	ones := make([]float64, s.dim())
	for i := range ones {
		ones[i] = 1
	}
	c1 := make([]float64, s.dim())
	s.coefs(c1, x)
	px := make([]float32, len(x))
	s.addProjection(px, c1, ones)
	c2 := make([]float64, s.dim())
	s.coefs(c2, px)
	for i := range c1 {
		if math.Abs(c1[i]-c2[i]) > 1e-5 {
			t.Fatalf("coefficient %d: %g after projecting, %g before", i, c2[i], c1[i])
		}
	}
	// the smoothest coefficient is the widest, each degree decays
	if math.Abs(s.lam[0]-0.64) > 1e-15 || math.Abs(s.lam[1]-0.64*0.7) > 1e-15 || math.Abs(s.lam[4]-0.64*0.49) > 1e-15 {
		t.Errorf("variances %v, want 0.64·0.7^(u+v)", s.lam)
	}
}

// shiftPlanesRef is shiftPlanes as it was, a clamp per value: the values
// shiftPlanes must keep.
func shiftPlanesRef(dst, src []float32, n, h, w, dy, dx int) {
	for p := 0; p < n; p++ {
		for y := 0; y < h; y++ {
			sy := clampInt(y-dy, 0, h-1)
			for x := 0; x < w; x++ {
				dst[(p*h+y)*w+x] = src[(p*h+sy)*w+clampInt(x-dx, 0, w-1)]
			}
		}
	}
}

// TestShiftPlanesMatchesRef holds the row-copying shiftPlanes to the
// per-value clamp, bit for bit, for shifts inside, at and beyond the
// plane's size in both directions (NaN and −0 included in the values).
func TestShiftPlanesMatchesRef(t *testing.T) {
	t.Parallel()
	for _, size := range [][3]int{{1, 1, 1}, {2, 3, 5}, {3, 16, 16}, {2, 7, 1}, {1, 1, 9}} {
		n, h, w := size[0], size[1], size[2]
		src := gauss(uint64(n*h*w), n*h*w)
		src[0] = float32(math.NaN())
		src[len(src)-1] = float32(math.Copysign(0, -1))
		for _, dy := range []int{-h - 2, -h, -1, 0, 1, h - 1, h, h + 3} {
			for _, dx := range []int{-w - 2, -w, -w + 1, -1, 0, 1, w - 1, w, w + 3} {
				got, want := make([]float32, len(src)), make([]float32, len(src))
				shiftPlanes(got, src, n, h, w, dy, dx)
				shiftPlanesRef(want, src, n, h, w, dy, dx)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%d×%d×%d shifted (%d, %d): value %d = %v, want %v", n, h, w, dy, dx, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkShiftPlanes times shiftPlanes against the per-value clamp
// (shiftPlanesRef) on the gmm fixture's exemplars at a 128² latent
// (64 exemplars × 4 channels), for one shift:
//
//	go test -run '^$' -bench ShiftPlanes ./executor/model
func BenchmarkShiftPlanes(b *testing.B) {
	const n, h, w = 256, 128, 128
	src := gauss(1, n*h*w)
	dst := make([]float32, n*h*w)
	for _, c := range []struct {
		name string
		f    func(dst, src []float32, n, h, w, dy, dx int)
	}{{"rows", shiftPlanes}, {"previous", shiftPlanesRef}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f(dst, src, n, h, w, 8, -19)
			}
		})
	}
}

// TestSqNormsMatchSqNorm holds sqNorms to the per-component sums it
// replaced in the per-size setup, bit for bit: sqNorm (rounded to float32)
// and the float64 sum of the local posterior, for component counts that
// do and do not fill the four-wide loop.
func TestSqNormsMatchSqNorm(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 4, 7, 9} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			const d = 37
			lat := gauss(uint64(n+5), n*d)
			for i := range lat {
				lat[i] *= float32(1 + i%11) // components of different scales
			}
			got := sqNorms(lat, n)
			if len(got) != n {
				t.Fatalf("%d norms, want %d", len(got), n)
			}
			for j := range n {
				c := lat[j*d : (j+1)*d]
				var want float64
				for _, v := range c {
					want += float64(float64(v) * float64(v))
				}
				if math.Float64bits(got[j]) != math.Float64bits(want) {
					t.Fatalf("norm %d = %v, want %v", j, got[j], want)
				}
				if f := float32(got[j]); math.Float32bits(f) != math.Float32bits(sqNorm(c)) {
					t.Fatalf("norm %d rounded = %v, sqNorm %v", j, f, sqNorm(c))
				}
			}
		})
	}
}
