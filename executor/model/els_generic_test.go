package model

import (
	"math"
	"testing"
)

// TestELSHaarRoundTrip: the Haar transform is orthonormal (it keeps ‖x‖²)
// and inverse undoes forward, at sizes that halve 0 to 6 times; every band
// position's support tiles the latent exactly once per band.
func TestELSHaarRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sz := range [][3]int{{4, 8, 8}, {2, 6, 10}, {1, 5, 7}, {1, 16, 4}, {4, 64, 64}, {1, 128, 128}} {
		c, h, w := sz[0], sz[1], sz[2]
		x := gauss(uint64(h*w+c), c*h*w)
		g := newELSGeneric(x, 1, c, h, w, 1e-4)
		co := make([]float64, len(x))
		g.forward(co, x)
		var ex, ec float64
		for i := range x {
			ex += float64(x[i]) * float64(x[i])
			ec += co[i] * co[i]
		}
		if math.Abs(ex-ec) > 1e-9*ex {
			t.Errorf("%v: ‖x‖² %v, ‖coefs‖² %v (not orthonormal)", sz, ex, ec)
		}
		back := make([]float64, len(x))
		g.inverse(back, co)
		for i := range x {
			if math.Abs(back[i]-float64(x[i])) > 1e-9 {
				t.Fatalf("%v: value %d: %v back as %v", sz, i, x[i], back[i])
			}
		}
		cover := make([]int, g.bands*h*w)
		for i := range g.band {
			for y := g.top[i]; y < g.top[i]+g.side[i]; y++ {
				for xx := g.left[i]; xx < g.left[i]+g.side[i]; xx++ {
					cover[(g.band[i]*h+y)*w+xx]++
				}
			}
		}
		for i, n := range cover {
			if n != 1 {
				t.Fatalf("%v: band %d pixel %d covered %d times", sz, i/(h*w), i%(h*w), n)
			}
		}
	}
}
