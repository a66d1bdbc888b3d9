package model

import (
	"fmt"
	"math"
	"testing"
)

// coefsRef is smooth.coefs as it was before its inner sums were shared
// between the row basis functions: the bits coefs must keep.
func coefsRef(s *smooth, dst []float64, lat []float32) {
	F, G := len(s.by), len(s.bx)
	row := make([]float64, G)
	for ch := 0; ch < s.c; ch++ {
		plane := lat[ch*s.h*s.w : (ch+1)*s.h*s.w]
		for u := 0; u < F; u++ {
			for v := range row {
				row[v] = 0
			}
			for y := 0; y < s.h; y++ {
				wy := s.by[u][y]
				line := plane[y*s.w : (y+1)*s.w]
				for v := 0; v < G; v++ {
					var acc float64
					bx := s.bx[v]
					for x, val := range line {
						acc += float64(bx[x] * float64(val))
					}
					row[v] += float64(wy * acc)
				}
			}
			copy(dst[(ch*F+u)*G:], row)
		}
	}
}

// TestSmoothCoefsBits holds smooth.coefs to the bits of coefsRef for
// square and non-square latents, every basis size the fixtures use and one
// (six column functions) that runs both the four-wide and the single sums.
func TestSmoothCoefsBits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ c, h, w, f int }{{4, 16, 16, 4}, {4, 24, 40, 4}, {4, 64, 64, 2}, {3, 5, 3, 4}, {2, 9, 11, 6}, {1, 1, 1, 1}} {
		t.Run(fmt.Sprintf("%dx%dx%d-f%d", c.c, c.h, c.w, c.f), func(t *testing.T) {
			t.Parallel()
			s := newSmooth(c.c, c.h, c.w, c.f, 0.5, 0.7)
			lat := gauss(uint64(c.h*c.w+c.f), c.c*c.h*c.w)
			got, want := make([]float64, s.dim()), make([]float64, s.dim())
			s.coefs(got, lat)
			coefsRef(s, want, lat)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("coef %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// BenchmarkSmoothCoefs times coefs against the previous code (coefsRef) on
// the gmm fixture's basis (F = 4) for a 128² latent (a 1024² image), per
// latent; the per-size setup runs it once per component:
//
//	go test -run '^$' -bench SmoothCoefs ./executor/model
func BenchmarkSmoothCoefs(b *testing.B) {
	s := newSmooth(4, 128, 128, 4, 0.5, 0.7)
	lat := gauss(1, 4*128*128)
	dst := make([]float64, s.dim())
	b.Run("shared", func(b *testing.B) {
		for b.Loop() {
			s.coefs(dst, lat)
		}
	})
	b.Run("previous", func(b *testing.B) {
		for b.Loop() {
			coefsRef(s, dst, lat)
		}
	})
}
