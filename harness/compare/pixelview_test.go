package compare

import (
	"image"
	"image/color"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vitali-fedulov/images4"
)

// TestPixelViewIcons: images4's icons of a pixelView are those of the
// *image.NRGBA itself (any size, alpha included, an offset origin).
func TestPixelViewIcons(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 14))
	for _, sz := range []image.Rectangle{
		image.Rect(0, 0, 1, 1), image.Rect(0, 0, 7, 3), image.Rect(0, 0, 64, 48),
		image.Rect(0, 0, 300, 257), image.Rect(5, 9, 70, 40),
	} {
		px := image.NewNRGBA(sz)
		for i := range px.Pix {
			px.Pix[i] = uint8(rng.IntN(256))
		}
		v := pixelView{px}
		for y := sz.Min.Y - 1; y <= sz.Max.Y; y++ {
			for x := sz.Min.X - 1; x <= sz.Max.X; x++ {
				r0, g0, b0, a0 := px.At(x, y).RGBA()
				r1, g1, b1, a1 := v.At(x, y).RGBA()
				if r0 != r1 || g0 != g1 || b0 != b1 || a0 != a1 {
					t.Fatalf("%v: At(%d, %d) = %v, image gives %v", sz, x, y, v.At(x, y), px.At(x, y))
				}
			}
		}
		if !reflect.DeepEqual(images4.Icon(v), images4.Icon(px)) {
			t.Errorf("%v: Icon differs", sz)
		}
		if !reflect.DeepEqual(images4.IconNN(v), images4.IconNN(px)) {
			t.Errorf("%v: IconNN differs", sz)
		}
	}
	if outside != (color.NRGBA{}) {
		t.Errorf("the outside colour was written: %v", outside)
	}
}

// TestPixelViewAllocs: images4's icon of a pixelView allocates less than
// of the *image.NRGBA (not parallel: AllocsPerRun).
func TestPixelViewAllocs(t *testing.T) {
	px := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	plain := testing.AllocsPerRun(3, func() { images4.Icon(px) })
	view := testing.AllocsPerRun(3, func() { images4.Icon(pixelView{px}) })
	// images4 still boxes the colours of its own resized copy (two of
	// three allocations per sampled pixel before).
	if view > 0.6*plain {
		t.Errorf("Icon allocates %.0f times through pixelView, %.0f without", view, plain)
	}
}
