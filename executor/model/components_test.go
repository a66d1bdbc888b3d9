package model

import (
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
