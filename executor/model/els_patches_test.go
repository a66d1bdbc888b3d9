package model

import (
	"fmt"
	"math"
	"testing"

	"github.com/regen-dev/regen/executor/backend/backendtest"
)

// TestPatchImages holds patchImages to extractPatch's bits at every
// position (borders included) for every radius up to the pad, on images
// smaller than the patch too, and its norms to backendtest.KeyNorms64 of
// the same patches (the sums the CPU backend makes itself).
func TestPatchImages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, ch, h, w, pad int }{
		{2, 4, 9, 7, 3},
		{1, 4, 2, 3, 3}, // the patch is larger than the image
		{3, 1, 5, 5, 1},
		{1, 3, 6, 4, 0},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d-pad%d", c.n, c.ch, c.h, c.w, c.pad), func(t *testing.T) {
			t.Parallel()
			src := gauss(uint64(c.n*100+c.h), c.n*c.ch*c.h*c.w)
			p := newPatchImages(src, c.n, c.ch, c.h, c.w, c.pad)
			plane := c.ch * c.h * c.w
			for r := 0; r <= c.pad; r++ {
				d := (2*r + 1) * (2*r + 1) * c.ch
				want, got := make([]float32, d), make([]float32, d+1)
				got[d] = 42 // a sentinel: patch writes d values only
				norms := p.sqNorms(r)
				for i := range c.n {
					for y := range c.h {
						for x := range c.w {
							extractPatch(want, src[i*plane:(i+1)*plane], c.ch, c.h, c.w, y, x, r)
							p.patch(got, i, y, x, r)
							if k := sameBits(got[:d], want); k >= 0 {
								t.Fatalf("r=%d image %d (%d,%d): value %d is %v, extractPatch's %v", r, i, y, x, k, got[k], want[k])
							}
							if got[d] != 42 {
								t.Fatalf("r=%d: patch wrote past its %d values", r, d)
							}
							for ch, v := range p.pixel(i, y, x) {
								if w := src[i*plane+(ch*c.h+y)*c.w+x]; math.Float32bits(v) != math.Float32bits(w) {
									t.Fatalf("pixel(%d, %d, %d)[%d] = %v, want %v", i, y, x, ch, v, w)
								}
							}
							if kn := backendtest.KeyNorms64(want, 1, d)[0]; math.Float64bits(norms[(i*c.h+y)*c.w+x]) != math.Float64bits(kn) {
								t.Fatalf("r=%d image %d (%d,%d): norm %v, want %v", r, i, y, x, norms[(i*c.h+y)*c.w+x], kn)
							}
						}
					}
				}
			}
		})
	}
}
