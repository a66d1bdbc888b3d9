package compare

import (
	"image"
	"image/color"
	"unsafe"
)

// pixelView is an *image.NRGBA whose At returns a pointer into its pixel
// bytes (a *color.NRGBA: the same four bytes in the same order, and the
// same RGBA method) instead of a color.NRGBA value. images4 reads every
// pixel it samples through image.Image.At, and boxing each value into the
// color.Color interface allocated once per sampled pixel (a third of an
// icon's allocations; images4 boxes the colours of its own resized copy
// too). The colours, and so the icons, are the same.
type pixelView struct{ *image.NRGBA }

// outside is the colour of every point outside the image, as
// image.NRGBA.At gives it; never written.
var outside color.NRGBA

// At returns the colour at (x, y) without allocating.
func (v pixelView) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(v.Rect)) {
		return &outside
	}
	return (*color.NRGBA)(unsafe.Pointer(&v.Pix[v.PixOffset(x, y)]))
}

var _ = [1]struct{}{}[unsafe.Sizeof(color.NRGBA{})-4] // four bytes, R G B A
