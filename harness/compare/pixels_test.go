package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"testing"
)

// TestPixelHasher: a pixelHasher's sum is the SHA-256 of the pixels
// however its steps went: stopped before the first, after some, or never,
// on images smaller and larger than a step, and not a multiple of one.
func TestPixelHasher(t *testing.T) {
	t.Parallel()
	for _, side := range []int{1, 7, 300, 1024} {
		img := image.NewNRGBA(image.Rect(0, 0, side, side+1))
		for i := range img.Pix {
			img.Pix[i] = byte(i*31 + i>>9)
		}
		want := sha256.Sum256(img.Pix)
		for _, steps := range []int{0, 1, 2, -1} { // -1: until stop, never closed
			t.Run(fmt.Sprintf("%d/steps=%d", side, steps), func(t *testing.T) {
				t.Parallel()
				h := newPixelHasher(img)
				stop := make(chan struct{})
				if steps >= 0 {
					close(stop)
					for range steps { // a step of its own, past the closed stop
						h.h.Write(h.pix[h.done : h.done+min(hashStep, len(h.pix)-h.done)])
						h.done += min(hashStep, len(h.pix)-h.done)
					}
				}
				h.until(stop)
				if steps == -1 && h.done != len(h.pix) {
					t.Errorf("until with stop open hashed %d of %d bytes", h.done, len(h.pix))
				}
				if steps == 0 && h.done != 0 {
					t.Errorf("until with stop closed hashed %d bytes, want 0", h.done)
				}
				if got := h.sum(); got != hex.EncodeToString(want[:]) {
					t.Errorf("sum = %s, want %x", got, want)
				}
				if got := pixelSHA256(img); got != hex.EncodeToString(want[:]) {
					t.Errorf("pixelSHA256 = %s, want %x", got, want)
				}
			})
		}
	}
}
